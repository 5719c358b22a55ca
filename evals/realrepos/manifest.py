"""The benchmark's libraries, as ``repos.toml`` lists them."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MANIFEST = Path(__file__).parent / "repos.toml"
WORKLOAD_FILE = "workload.py"
WORKLOAD_COMMAND = f"python {WORKLOAD_FILE}"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ManifestError(ValueError):
    """The manifest is not what this module reads."""


@dataclass(frozen=True)
class RepoSpec:
    """One pinned sdist: ``project`` ``version`` on the package index, with ``sha256``.

    ``name`` is the benchmark's short name (file names, ``--repos``); ``workload`` the text
    of the script committed as ``workload.py``; ``test_notes`` why ``test_command`` leaves
    something out, if it does.
    """

    name: str
    project: str
    version: str
    sha256: str
    test_command: str
    workload: str
    test_notes: str = ""

    @property
    def requirement(self) -> str:
        """The line of a pip requirements file that pins exactly this sdist."""
        return f"{self.project}=={self.version} --hash=sha256:{self.sha256}"


def load_manifest(path: Path = MANIFEST) -> list[RepoSpec]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ManifestError(f"{path}: {error}") from None
    entries = data.get("repo")
    if not isinstance(entries, list) or not entries:
        raise ManifestError(f"{path}: no [[repo]] entries")
    specs = [_spec(entry, path) for entry in entries]
    names = [spec.name for spec in specs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ManifestError(f"{path}: repeated names: {', '.join(duplicated)}")
    return specs


def select(specs: list[RepoSpec], names: list[str] | None) -> list[RepoSpec]:
    """The specs named (in the order named), or all of them."""
    if not names:
        return specs
    by_name = {spec.name: spec for spec in specs}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ManifestError(f"unknown repos: {', '.join(unknown)} (known: {', '.join(by_name)})")
    return [by_name[name] for name in dict.fromkeys(names)]


def _spec(entry: object, path: Path) -> RepoSpec:
    if not isinstance(entry, dict):
        raise ManifestError(f"{path}: a [[repo]] entry is not a table")
    fields = ("name", "project", "version", "sha256", "test_command", "workload")
    missing = [key for key in fields if not isinstance(entry.get(key), str) or not entry[key]]
    if missing:
        raise ManifestError(f"{path}: {entry.get('name', '?')}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - {*fields, "test_notes"})
    if unknown:
        raise ManifestError(f"{path}: {entry['name']}: unknown keys {', '.join(unknown)}")
    spec = RepoSpec(**{key: entry[key] for key in fields}, test_notes=entry.get("test_notes", ""))
    if not all(_NAME.fullmatch(text) for text in (spec.name, spec.project, spec.version)):
        raise ManifestError(f"{path}: {spec.name!r}: name, project and version must be plain words")
    if not _SHA256.fullmatch(spec.sha256):
        raise ManifestError(f"{path}: {spec.name}: sha256 must be 64 lowercase hex digits")
    try:
        compile(spec.workload, f"{spec.name}/{WORKLOAD_FILE}", "exec")
    except SyntaxError as error:
        raise ManifestError(f"{path}: {spec.name}: the workload does not parse: {error}") from None
    return spec

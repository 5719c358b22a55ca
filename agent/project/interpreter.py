"""The Python the user's project runs with: found, checked, and what a sandbox must show of it.

Evolver lives in an environment of its own (pipx, ``uv tool``) and runs the project with the
project's interpreter, so that the project's tests see its own pytest and dependencies and
nothing is ever installed into its environment. What Evolver's harness (``agent/_harness``)
needs beyond the standard library and the project's own pytest is lent from Evolver's
environment instead: a folder of links to exactly those distributions, which the project's
interpreter finds after everything of the project's own.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from agent.errors import UsageError

MIN_VERSION = (3, 10)
PROBE_TIMEOUT = 60.0
# What the harness imports beyond the standard library and the project's pytest (checked by
# tests/test_interpreter.py against every import in agent/_harness): hypothesis, in
# evolver_inputs.py, brings its own requirements along.
HARNESS_NEEDS = ("hypothesis",)
HARNESS_IMPORTS = ("hypothesis",)
# In-repo virtual environments, in the order they are looked for.
REPO_VENVS = (".venv", "venv")

# Run with ``-I`` (no PYTHON* variables, no user site, no script directory): what this
# interpreter is, where its environment lives, what it has installed, and the values of
# requirement markers (the standard library's side of packaging's default_environment).
# Plain enough for an old Python to answer with its version.
_PROBE = r"""
import json, os, platform, sys
info = {"version": list(sys.version_info[:3])}
try:
    import importlib.metadata as metadata
    info["distributions"] = sorted({d.metadata["Name"] or "" for d in metadata.distributions()})
except Exception:
    info["distributions"] = []
implementation = sys.implementation.version
full = "{0.major}.{0.minor}.{0.micro}".format(implementation)
if implementation.releaselevel != "final":
    full += implementation.releaselevel[0] + str(implementation.serial)
info.update(
    executable=sys.executable,
    prefix=sys.prefix,
    base_prefix=sys.base_prefix,
    exec_prefix=sys.exec_prefix,
    base_exec_prefix=sys.base_exec_prefix,
    path=[entry for entry in sys.path if entry],
    markers={
        "implementation_name": sys.implementation.name,
        "implementation_version": full,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
)
print(json.dumps(info))
"""


@dataclass(frozen=True)
class Interpreter:
    """A working Python (>= 3.10) and what it has, as it answered a probe."""

    python: str  # absolute, as it is run: a venv's link, not what the link points to
    found_by: str  # how it was chosen, for the report: "the repo's .venv", ...
    version: tuple[int, int, int]
    prefixes: tuple[str, ...]  # its prefix and base prefix (a venv, and the Python it links to)
    path: tuple[str, ...]  # its sys.path under -I: standard library, site-packages, .pth entries
    distributions: frozenset[str]  # installed distributions, names normalized
    markers: Mapping[str, str] = field(default_factory=dict)  # values for requirement markers

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def note(self) -> str:
        return f"project interpreter: {self.python} ({self.found_by}; Python {self.version_text})"

    def has(self, distribution: str) -> bool:
        return normalize(distribution) in self.distributions

    def readable(self, repo: Path) -> tuple[Path, ...]:
        """What a sandbox that hides ``repo`` (and home directories) must still show for this
        interpreter to run: its environment (a venv inside the checkout, say), the Python that
        environment links to, and the folders on its path. Entries elsewhere in ``repo`` (an
        editable install of the project itself) stay hidden: the sandbox's copy stands in."""
        repo = Path(os.path.abspath(repo))
        prefixes = [Path(prefix) for prefix in self.prefixes]
        shown = [*prefixes, Path(os.path.realpath(self.python)).parent]
        for entry in map(Path, self.path):
            inside_repo = entry.is_relative_to(repo)
            if not inside_repo or any(entry.is_relative_to(prefix) for prefix in prefixes):
                shown.append(entry)
        return tuple(dict.fromkeys(path for path in shown if path.exists()))


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def find_python(
    repo: Path, configured: str | None, environ: Mapping[str, str] | None = None
) -> Interpreter:
    """The interpreter to run the project in ``repo`` with, and how it was found.

    ``configured`` (``--python``, ``[tool.evolver] python``; relative to ``repo``) if given;
    else the repo's own virtual environment (``.venv``, ``venv``); else the active one
    (``VIRTUAL_ENV`` in ``environ``, by default ours) unless it is Evolver's own; else the
    Python Evolver runs on. A chosen interpreter that does not run, or is older than 3.10,
    is a :class:`UsageError`.
    """
    environ = os.environ if environ is None else environ
    repo = Path(os.path.abspath(repo))
    if configured is not None:
        return probe(_configured_path(repo, configured), "configured")
    for name in REPO_VENVS:
        python = repo / name / "bin" / "python"
        if os.path.lexists(python):  # a broken link too: said, not passed over
            return probe(python, f"the repo's {name}")
    active = environ.get("VIRTUAL_ENV")
    if active and not _same_place(active, sys.prefix):
        return probe(Path(active) / "bin" / "python", "the active virtual environment")
    return probe(Path(sys.executable), "Evolver's own")


def _configured_path(repo: Path, configured: str) -> Path:
    """A bare name (``python3.12``) is looked up on PATH; any other relative path is taken
    relative to the repo, where ``[tool.evolver]`` lives."""
    if os.sep not in configured:
        on_path = shutil.which(configured)
        if on_path is not None:
            return Path(on_path)
    path = Path(configured).expanduser()
    return path if path.is_absolute() else repo / path


def _same_place(first: str, second: str) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


def _run_code(python: str, code: str) -> subprocess.CompletedProcess[str]:
    """``python -c code``, isolated from the environment and writing no bytecode into the
    project's (``-I -B``), away from any folder whose modules it could pick up. It runs
    outside the sandbox, and the project's environment may run code as it starts (``.pth``
    files): it gets no variable of ours (API keys), only a ``PATH``."""
    return subprocess.run(
        [python, "-I", "-B", "-c", code],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT,
        stdin=subprocess.DEVNULL,
        cwd=tempfile.gettempdir(),
        env={"PATH": os.environ.get("PATH", os.defpath)},
        check=False,
    )


def probe(python: Path, found_by: str) -> Interpreter:
    """Ask ``python`` (in a plain subprocess, isolated, writing no bytecode: ``-I -B``) what
    it is and what it has."""
    python = Path(os.path.abspath(python))
    where = f"the project's interpreter {python} ({found_by})"
    if not python.exists():
        raise UsageError(f"{where} does not exist")
    if not python.is_file() or not os.access(python, os.X_OK):
        raise UsageError(f"{where} is not an executable file")
    try:
        done = _run_code(str(python), _PROBE)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"{where} does not run: {error}") from None
    try:
        info = json.loads(done.stdout)
        version = tuple(int(part) for part in info["version"][:3])
    except (ValueError, KeyError, TypeError):
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1][:200]
        raise UsageError(f"{where} is not a working Python: {last}") from None
    if version[:2] < MIN_VERSION:
        shown = ".".join(map(str, version))
        raise UsageError(f"{where} is Python {shown}; evolver needs Python 3.10 or newer")
    # What it says it is: a venv's link as it was called, but a launcher that execs Python
    # (pyenv's shims) replaced by the Python itself, which a sandbox can run.
    executable = str(info.get("executable") or python)
    return Interpreter(
        python=executable if os.path.isabs(executable) else str(python),
        found_by=found_by,
        version=(version[0], version[1], version[2]),
        prefixes=tuple(
            dict.fromkeys(
                str(info[key])
                for key in ("prefix", "exec_prefix", "base_prefix", "base_exec_prefix")
            )
        ),
        path=tuple(str(entry) for entry in info["path"]),
        distributions=frozenset(normalize(str(name)) for name in info["distributions"]),
        markers={str(key): str(value) for key, value in info["markers"].items()},
    )


def lend_harness_libraries(interpreter: Interpreter, folder: Path) -> tuple[str, ...]:
    """Link into ``folder`` what the harness needs that ``interpreter`` lacks, from Evolver's
    environment, and return those distributions' names (none: ``folder`` is not needed).

    The distributions are hypothesis and what it requires there (markers evaluated for that
    interpreter), but for those the interpreter has: its own versions win. Only their code is
    linked, not their metadata: a pytest plugin they declare (hypothesis has one) must not
    load into the project's test runs. A :class:`UsageError` when the lent code cannot be
    imported there (another Python version than Evolver's, and a compiled distribution).
    """
    lent = _lent_distributions(interpreter)
    for distribution in lent:
        _link_code(distribution, folder)
    if lent:
        _check_imports(interpreter, folder)
    return tuple(str(distribution.metadata["Name"]) for distribution in lent)


def _lent_distributions(interpreter: Interpreter) -> list[importlib.metadata.Distribution]:
    """The closure of ``HARNESS_NEEDS`` over requirements, without what ``interpreter`` has."""
    lent: dict[str, importlib.metadata.Distribution] = {}
    todo = list(HARNESS_NEEDS)
    while todo:
        name = normalize(todo.pop())
        if name in lent or interpreter.has(name):
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise UsageError(
                f"the project's interpreter {interpreter.python} lacks {name}, which Evolver's "
                f"harness needs under Python {interpreter.version_text}, and Evolver's own "
                "environment has none to lend"
            ) from None
        _check_requires_python(distribution, interpreter)
        lent[name] = distribution
        todo.extend(_requirements(distribution, interpreter))
    return list(lent.values())


def _check_requires_python(
    distribution: importlib.metadata.Distribution, interpreter: Interpreter
) -> None:
    wanted = distribution.metadata["Requires-Python"]
    try:
        fits = not wanted or SpecifierSet(wanted).contains(interpreter.version_text)
    except InvalidSpecifier:
        fits = True  # the import check decides
    if not fits:
        name, version = distribution.metadata["Name"], distribution.version
        raise UsageError(
            f"Evolver's harness needs {name}, which the project's interpreter "
            f"{interpreter.python} lacks, and Evolver's {name} {version} needs Python {wanted}, "
            f"not {interpreter.version_text}: {_REMEDY}"
        )


_REMEDY = (
    "install Evolver with the project's Python version (uv tool install --python X.Y ., "
    "pipx install --python pythonX.Y .)"
)


def _requirements(
    distribution: importlib.metadata.Distribution, interpreter: Interpreter
) -> list[str]:
    """The names ``distribution`` requires under ``interpreter`` (no extras)."""
    names = []
    for text in distribution.requires or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is None or marker.evaluate({**interpreter.markers, "extra": ""}):
            names.append(requirement.name)
    return names


def _link_code(distribution: importlib.metadata.Distribution, folder: Path) -> None:
    """Link the top-level modules and packages of ``distribution`` into ``folder``."""
    tops = {file.parts[0] for file in distribution.files or () if file.parts}
    for top in sorted(tops):
        if top in ("..", "__pycache__") or top.endswith((".dist-info", ".data", ".pth")):
            continue
        source = Path(str(distribution.locate_file(top)))
        link = folder / top
        if source.exists() and not os.path.lexists(link):
            link.symlink_to(source)


def _check_imports(interpreter: Interpreter, folder: Path) -> None:
    """Import what the harness imports under ``interpreter``, with ``folder`` after its own
    path, as the harness will."""
    code = f"import sys; sys.path.append({str(folder)!r}); import {', '.join(HARNESS_IMPORTS)}"
    done = _run_code(interpreter.python, code)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise UsageError(
            f"Evolver's harness cannot import {', '.join(HARNESS_IMPORTS)} lent from its own "
            f"environment under the project's interpreter {interpreter.python} (Python "
            f"{interpreter.version_text}): {last}: {_REMEDY}, or install them into the "
            "project's environment"
        )


def describe(lent: Sequence[str]) -> str:
    """A note on what was lent, for the report."""
    return f"lent to the project's interpreter from Evolver's environment: {', '.join(lent)}"

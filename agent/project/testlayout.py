"""Which files of a repository are its tests, the way pytest itself tells them apart.

Tests, benchmarks and conftest files judge a candidate; they are never a target, and time
spent in them is not the repository's. File names alone are not enough: chardet keeps its
tests in ``test.py`` (``python_files = "test.py"``), which no name pattern would guess. So
the layout reads pytest's configuration where pytest finds it (the first file, in pytest's
order, that holds a pytest section), its ``python_files`` and ``testpaths``, and where the
conftest files are; the usual folder names (``tests/`` and the like) remain a fallback.

The configuration is the repository's own data: it is read size-capped, without following a
link or waiting on a FIFO, and a file that does not parse is passed over (pytest would refuse
it; the fallback still holds).
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import iniconfig

from agent.verify.untrusted import UntrustedDataError, read_bounded

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYTEST_DEFAULT_FILES = ("test_*.py", "*_test.py")
# pytest-benchmark files and the scripts projects time themselves with (tabulate's benchmark.py).
BENCHMARK_FILES = (
    "bench_*.py", "*_bench.py", "bench.py", "benchmark_*.py", "*_benchmark.py", "benchmark.py",
    "benchmarks.py",
)  # fmt: skip
TEST_DIRECTORIES = frozenset({"tests", "test", "testing"})
BENCHMARK_DIRECTORIES = frozenset({"benchmarks", "benchmark", "bench"})
MAX_CONFIG_BYTES = 1024 * 1024
# Not the project's own code: never searched for conftest files.
_SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", ".tox", ".nox", "node_modules", "site-packages",
     "build", "dist", "__pycache__", ".evolver"}
)  # fmt: skip

_Settings = dict[str, Any]
_Loader = Callable[[Path, str], _Settings | None]


@dataclass(frozen=True)
class TestLayout:
    """What pytest collects in one repository, and where its test support lives."""

    __test__ = False  # a name pytest would otherwise try to collect

    python_files: tuple[str, ...] = PYTEST_DEFAULT_FILES
    testpaths: tuple[str, ...] = ()  # folders, relative to the root (posix)
    conftests: tuple[str, ...] = ()  # every conftest.py found, relative to the root (posix)
    config_file: str | None = None  # where the settings came from; None: pytest's defaults

    @classmethod
    def of(cls, root: Path) -> TestLayout:
        """The layout of the repository at ``root`` (pytest run from ``root``)."""
        found = _pytest_settings(root)
        if found is None:
            return cls(conftests=_conftests(root))
        name, settings = found
        python_files = tuple(_words(settings.get("python_files"))) or PYTEST_DEFAULT_FILES
        # With doctests of every module, testpaths names source folders on purpose: then it
        # says nothing about which files are tests.
        doctests = "--doctest-modules" in _words(settings.get("addopts"))
        testpaths = () if doctests else _test_folders(root, _words(settings.get("testpaths")))
        return cls(python_files, testpaths, _conftests(root), name)

    def is_test(self, path: str) -> bool:
        """Whether ``path`` (relative to the root, posix) is test, benchmark or conftest code."""
        parts = path.split("/")
        name, folders = parts[-1], parts[:-1]
        return (
            name == "conftest.py"
            or any(_matches(pattern, path, name) for pattern in self.python_files)
            or any(fnmatch.fnmatch(name, pattern) for pattern in BENCHMARK_FILES)
            or any(path.startswith(folder + "/") for folder in self.testpaths)
            or any(part in TEST_DIRECTORIES | BENCHMARK_DIRECTORIES for part in folders)
        )


def import_roots(root: Path, layout: TestLayout | None = None) -> list[Path]:
    """The folders pytest puts on ``sys.path`` to import the tests and conftests under ``root``
    (its default ``prepend`` mode: the first folder up from each that is not a package), so
    that a value a test made (an instance of a class a test module defines, pickled when it
    was recorded) can be loaded again outside pytest."""
    layout = layout or TestLayout.of(root)
    found: dict[Path, None] = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in _SKIP_DIRS)
        here = Path(folder)
        relative = Path(os.path.relpath(here, root)).as_posix()
        tests = [f for f in files if f.endswith(".py") and layout.is_test(f"{relative}/{f}")]
        if not tests or here == root:
            continue
        while (here / "__init__.py").is_file() and here != root:
            here = here.parent
        if here != root:  # the root is on the path already
            found.setdefault(here)
    return list(found)


def _matches(pattern: str, path: str, name: str) -> bool:
    """pytest's ``fnmatch_ex``: a pattern without ``/`` matches the file name; one with ``/``
    the path (pytest matches absolute paths against ``*/pattern``, so a prefix may come first)."""
    if "/" not in pattern:
        return fnmatch.fnmatch(name, pattern)
    return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, "*/" + pattern)


def _pytest_settings(root: Path) -> tuple[str, _Settings] | None:
    """The first configuration file pytest would use in ``root``, and its pytest settings."""
    for name, load in _LOADERS:
        path = root / name
        if not path.is_file():
            continue
        try:
            text = read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8")
            settings = load(path, text)
        except (UntrustedDataError, UnicodeDecodeError, ValueError, iniconfig.ParseError):
            continue  # pytest would stop on it; the folder names still tell
        if settings is not None:
            return name, settings
    return None


def _ini_section(section: str, always: bool = False) -> _Loader:
    """An INI file's ``[section]``; ``always``: the file is pytest's own, section or not."""

    def load(path: Path, text: str) -> _Settings | None:
        parsed = iniconfig.IniConfig(str(path), data=text)
        if section in parsed:
            return dict(parsed[section].items())
        return {} if always else None

    return load


def _pytest_toml(path: Path, text: str) -> _Settings | None:
    table = tomllib.loads(text).get("pytest")
    return table if isinstance(table, dict) else {}


def _pyproject(path: Path, text: str) -> _Settings | None:
    tool = tomllib.loads(text).get("tool")
    pytest = tool.get("pytest") if isinstance(tool, dict) else None
    if not isinstance(pytest, dict):
        return None
    native = {key: value for key, value in pytest.items() if key != "ini_options"}
    if native:  # pytest 9: [tool.pytest] with TOML types
        return native
    ini_options = pytest.get("ini_options")
    return ini_options if isinstance(ini_options, dict) else None


# pytest's order (``_pytest.config.findpaths``): the first file with pytest settings wins.
_LOADERS = (
    ("pytest.toml", _pytest_toml),
    (".pytest.toml", _pytest_toml),
    ("pytest.ini", _ini_section("pytest", always=True)),
    (".pytest.ini", _ini_section("pytest", always=True)),
    ("pyproject.toml", _pyproject),
    ("tox.ini", _ini_section("pytest")),
    ("setup.cfg", _ini_section("tool:pytest")),
)


def _words(value: object) -> list[str]:
    """An ``args``-type setting: a list as it is, a string split as a shell would."""
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    return []


def _test_folders(root: Path, entries: list[str]) -> tuple[str, ...]:
    """The ``testpaths`` entries (globs allowed, as pytest allows) that are folders inside the
    root, relative to it; the root itself names everything, so it names no test folder."""
    real_root = os.path.realpath(root)
    folders: list[str] = []
    for entry in entries:
        try:
            matches = sorted(root.glob(entry)) if _is_glob(entry) else [root / entry]
        except (ValueError, NotImplementedError, OSError):  # an absolute or odd pattern
            continue
        for match in matches:
            real = os.path.realpath(match)
            if real != real_root and real.startswith(real_root + os.sep) and match.is_dir():
                folders.append(Path(os.path.relpath(real, real_root)).as_posix())
    return tuple(dict.fromkeys(folders))


def _is_glob(entry: str) -> bool:
    return any(char in entry for char in "*?[")


def _conftests(root: Path) -> tuple[str, ...]:
    """Every conftest.py under ``root``, outside environments and build output."""
    found: list[str] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in _SKIP_DIRS)
        if "conftest.py" in files:
            relative = Path(os.path.relpath(Path(folder) / "conftest.py", root)).as_posix()
            found.append(relative)
    return tuple(sorted(found))

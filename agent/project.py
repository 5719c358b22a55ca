"""How to run the user's project in a sandbox: its tests, its workload, an import.

Everything runs with the interpreter Evolver runs on (so the project's dependencies must be
importable there), with the copy's root (and ``src/``) on ``PYTHONPATH`` ahead of anything
installed, and with Evolver's harness folder on it so that profiling and call recording can
ride along in any Python process the command starts.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox import Result, Sandbox

HARNESS_DIR = Path(__file__).parent / "_harness"
_SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)
PYTEST_NO_TESTS = 5
PYTEST_USAGE_ERROR = 4


@dataclass(frozen=True)
class TestRun:
    ok: bool
    no_tests: bool
    failed: tuple[str, ...]
    duration: float
    timed_out: bool
    output: str
    # Each test's outcome by pytest node id ("passed", "failed" or "skipped"; an error in
    # setup or teardown counts as failed), when asked for and pytest wrote them; else None.
    outcomes: dict[str, str] | None = None

    def describe_failure(self) -> str:
        if self.timed_out:
            return f"tests timed out after {self.duration:.0f}s"
        if self.failed:
            shown = ", ".join(self.failed[:5])
            more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
            return f"failing tests: {shown}{more}"
        last = self.output.strip().splitlines()[-1:] or ["no output"]
        return f"test command failed: {last[0][:200]}"


def is_pytest(argv: list[str]) -> bool:
    return Path(argv[0]).name == "pytest" or argv[1:3] == ["-m", "pytest"]


@dataclass(frozen=True)
class Project:
    """The commands of one repository, as the user configured them."""

    test_command: tuple[str, ...] | None = None  # None: pytest
    workload: str | None = None  # a shell command; None: benchmarks, else the tests
    python: str = sys.executable
    test_timeout: float = 900.0
    # Node ids of tests whose outcome changed between two baseline runs on HEAD: they judge
    # no candidate (the tests stage deselects them). Set by the baseline, like the timeout.
    flaky_tests: tuple[str, ...] = ()

    @property
    def pytest_argv(self) -> list[str]:
        """pytest, quiet, writing no cache into the copy, running benchmarks once, untimed."""
        return [self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable"]

    def not_flaky(self, node_ids: Iterable[str]) -> list[str]:
        """The tests among ``node_ids`` that are not flaky (nor inside a flaky node)."""
        return [t for t in node_ids if not deselected_by(t, self.flaky_tests)]

    @property
    def tests_argv(self) -> list[str]:
        if self.test_command is None:
            return self.pytest_argv
        argv = list(self.test_command)
        if Path(argv[0]).name == "pytest":
            argv[:1] = [self.python, "-m", "pytest"]
        return argv

    def env(self, sandbox: Sandbox, extra: dict[str, str] | None = None) -> dict[str, str]:
        paths = [str(HARNESS_DIR), str(sandbox.work)]
        if (sandbox.work / "src").is_dir():
            paths.append(str(sandbox.work / "src"))
        return {
            "PATH": os.pathsep.join([str(Path(self.python).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(paths),
            "PYTHONDONTWRITEBYTECODE": "1",
            **(extra or {}),
        }

    def run_tests(
        self,
        sandbox: Sandbox,
        select: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
        timeout: float | None = None,
        deselect: Sequence[str] = (),
        per_test: bool = False,
    ) -> TestRun:
        """Run the tests; with pytest, only ``select`` (node ids) if given, never ``deselect``,
        and with ``per_test`` each test's outcome read from a junit XML report."""
        argv = self.tests_argv
        junit = None
        if is_pytest(argv):
            argv = [*argv, "-rfE", *deselect_args(deselect)]
            if per_test:
                junit = sandbox.tmp / f"evolver-junit-{uuid.uuid4().hex[:12]}.xml"
                # xunit1 keeps each test's file, which turns the report's names back into ids.
                argv += [f"--junitxml={junit}", "-o", "junit_family=xunit1"]
            argv += select or []
        result = sandbox.run(
            argv, timeout=timeout or self.test_timeout, env=self.env(sandbox, extra_env)
        )
        refused = result.returncode == PYTEST_USAGE_ERROR and "--junitxml" in result.stderr
        if junit is not None and refused:  # the project turned junitxml off (-p no:junitxml)
            return self.run_tests(sandbox, select, extra_env, timeout, deselect)
        output = result.stdout + result.stderr
        outcomes = None
        if junit is not None:
            outcomes = junit_outcomes(junit, sandbox.work)
            junit.unlink(missing_ok=True)
        return TestRun(
            ok=result.ok,
            no_tests=result.returncode == PYTEST_NO_TESTS and is_pytest(argv),
            failed=tuple(dict.fromkeys(m.group(2) for m in _SUMMARY_LINE.finditer(output))),
            duration=result.duration,
            timed_out=result.timed_out,
            output=output,
            outcomes=outcomes,
        )

    def workload_argv(self, sandbox: Sandbox) -> tuple[list[str], str]:
        """The workload to profile, and how to describe it."""
        if self.workload:
            return ["sh", "-c", self.workload], self.workload
        benchmarks = find_benchmarks(sandbox.work)
        if benchmarks:
            return [*self.pytest_argv, *benchmarks], f"benchmarks: {shlex.join(benchmarks)}"
        return self.tests_argv, "the test suite"

    def run_workload(
        self, sandbox: Sandbox, extra_env: dict[str, str], timeout: float | None = None
    ) -> Result:
        argv, _ = self.workload_argv(sandbox)
        return sandbox.run(
            argv, timeout=timeout or self.test_timeout, env=self.env(sandbox, extra_env)
        )

    def import_module(self, sandbox: Sandbox, module: str, timeout: float = 120.0) -> Result:
        code = "import importlib, sys; importlib.import_module(sys.argv[1])"
        return sandbox.run(
            [self.python, "-c", code, module], timeout=timeout, env=self.env(sandbox)
        )


def deselect_args(node_ids: Iterable[str]) -> list[str]:
    return [arg for node_id in node_ids for arg in ("--deselect", node_id)]


def deselected_by(node_id: str, deselected: Iterable[str]) -> bool:
    """Whether ``node_id`` is one of ``deselected`` or inside one (a module, a class, or the
    parametrized cases of a function). pytest's ``--deselect`` matches any prefix, so it also
    leaves out ``test_ab`` for ``test_a``; the baseline says so when that happens."""
    return any(
        node_id == prefix or node_id.startswith((prefix + "::", prefix + "["))
        for prefix in deselected
    )


_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def junit_outcomes(report: Path, root: Path) -> dict[str, str] | None:
    """Each test's outcome by node id, from pytest's junit XML; None if there is none."""
    try:
        tree = ElementTree.parse(report)
    except (OSError, ElementTree.ParseError):
        return None
    outcomes: dict[str, str] = {}
    for case in tree.iter("testcase"):
        node_id = _node_id(case.get("classname", ""), case.get("name", ""), case.get("file"), root)
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        # A test can appear twice (a failing call, then an error in teardown): the worst wins.
        if _RANK[outcome] >= _RANK[outcomes.get(node_id, "passed")]:
            outcomes[node_id] = outcome
    return outcomes


def _node_id(classname: str, name: str, file: str | None, root: Path) -> str:
    """Undo pytest's mangling of a node id into junit's ``classname`` and ``name``.

    ``tests/test_a.py::TestB::test_c[x.y]`` is written as classname ``tests.test_a.TestB`` and
    name ``test_c[x.y]`` (a collection error of a module: no classname, and the module's
    dotted path as name). The test's file, when given and consistent, splits the classname;
    otherwise the longest dotted prefix that is a file in ``root`` does.
    """
    parts = classname.split(".") if classname else []
    if not parts:  # a module-level node such as a collection error
        parts, name = name.split("."), ""
    tail = [name] if name else []
    if file and file.endswith(".py"):
        module = file[: -len(".py")].replace("/", ".").split(".")
        if parts[: len(module)] == module:
            return "::".join([file, *parts[len(module) :], *tail])
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        if (root / path).is_file():
            return "::".join([path, *parts[cut:], *tail])
    return "::".join([*parts, *tail])


_BENCHMARK_FIXTURE = re.compile(r"def test\w*\([^)]*\bbenchmark\b")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "site-packages", "build", "dist", ".tox"}


def find_benchmarks(root: Path) -> list[str]:
    """Test files that use pytest-benchmark's ``benchmark`` fixture, relative to ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if _SKIP_DIRS.intersection(relative.parts) or not path.name.startswith(("test", "bench")):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _BENCHMARK_FIXTURE.search(text):
            found.append(relative.as_posix())
    return found

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
from dataclasses import dataclass
from pathlib import Path

from sandbox import Result, Sandbox

HARNESS_DIR = Path(__file__).parent / "_harness"
_SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)
PYTEST_NO_TESTS = 5


@dataclass(frozen=True)
class TestRun:
    ok: bool
    no_tests: bool
    failed: tuple[str, ...]
    duration: float
    timed_out: bool
    output: str

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

    @property
    def pytest_argv(self) -> list[str]:
        """pytest, quiet, writing no cache into the copy, running benchmarks once, untimed."""
        return [self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable"]

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
    ) -> TestRun:
        argv = self.tests_argv
        if is_pytest(argv):
            argv = [*argv, "-rfE", *(select or [])]
        result = sandbox.run(
            argv, timeout=timeout or self.test_timeout, env=self.env(sandbox, extra_env)
        )
        output = result.stdout + result.stderr
        return TestRun(
            ok=result.ok,
            no_tests=result.returncode == PYTEST_NO_TESTS and is_pytest(argv),
            failed=tuple(dict.fromkeys(m.group(2) for m in _SUMMARY_LINE.finditer(output))),
            duration=result.duration,
            timed_out=result.timed_out,
            output=output,
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

"""How to run the user's project in a sandbox: its tests, its workload, an import.

Everything runs with the project's own interpreter (``agent/project/interpreter.py`` finds it: its
``.venv``, ``--python``, ...), with the copy's root (and ``src/``) on ``PYTHONPATH`` ahead of
anything installed, Evolver's harness folder ahead of those so that profiling and call
recording can ride along in any Python process the command starts, and what the harness needs
that the interpreter lacks (lent from Evolver's environment) after them.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from agent.config import RunConfig
from agent.errors import UsageError
from agent.profile.workload import outside_paths
from agent.project.interpreter import Interpreter, describe, find_python, lend_harness_libraries
from agent.project.testlayout import TestLayout
from agent.project.workspace import Workspace
from agent.verify.suite import (
    Judgement,
    MalformedResults,
    SuiteBaseline,
    SuiteRecord,
    collection_error,
    judge,
    parse_results,
)
from agent.verify.untrusted import UntrustedDataError, read_bounded
from sandbox import Result, Sandbox

HARNESS_DIR = Path(__file__).parents[1] / "_harness"
RESULTS_PLUGIN = "evolver_results"  # agent/_harness/evolver_results.py
_SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)
PYTEST_NO_TESTS = 5


@dataclass(frozen=True)
class TestRun:
    ok: bool  # the judgement passed it (not pytest: it exited 0)
    no_tests: bool
    failed: tuple[str, ...]
    duration: float
    timed_out: bool
    output: str
    # Each test's outcome by pytest node id ("passed", "failed" or "skipped"; an error in
    # setup or teardown counts as failed, as does a module that fails to collect), from the
    # results plugin; None when there are none (not pytest, or no valid records).
    outcomes: dict[str, str] | None = None
    per_test: bool = False  # pytest with the results plugin; else only the exit code counts
    record: SuiteRecord | None = None  # what the plugin wrote, checked
    record_problem: str | None = None  # why there is no record, when per_test
    returncode: int | None = None
    select: tuple[str, ...] | None = None  # what was asked for: None, the whole suite
    deselect: tuple[str, ...] = ()
    # The verdict on this run, against the project's baseline once there is one.
    judgement: Judgement | None = None

    def describe_exit(self) -> str:
        if self.returncode is not None and self.returncode < 0:
            return f"killed by signal {-self.returncode}"
        return f"exit code {self.returncode}"

    def describe_failure(self) -> str:
        if self.timed_out:
            return f"tests timed out after {self.duration:.0f}s"
        if self.failed:
            shown = ", ".join(self.failed[:5])
            more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
            cause = collection_error(self.record, self.output, self.failed)
            return f"failing tests: {shown}{more}" + (f" ({cause})" if cause else "")
        if self.judgement is not None and not self.judgement.passed:
            return self.judgement.reason
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
    # Whether ``python``'s pytest has pytest-benchmark (``--benchmark-disable`` is passed only
    # then, and benchmarks are a workload only then); the interpreter was asked once.
    benchmark_plugin: bool = True
    # Folders of what the harness needs and ``python`` lacks, after the project's own paths.
    lent: tuple[str, ...] = ()
    # What a sandbox hiding the user's checkout must show for ``python`` to run (its venv).
    readable: tuple[Path, ...] = ()
    test_timeout: float = 900.0
    # Node ids of tests whose outcome changed between two baseline runs on HEAD: they judge
    # no candidate (the tests stage deselects them). Set by the baseline, like the timeout.
    flaky_tests: tuple[str, ...] = ()
    # What the tests did on HEAD, per test: candidates' runs are judged against it. Set by
    # the baseline; None before it (a run is then judged on its own records alone).
    suite: SuiteBaseline | None = None

    @property
    def pytest_argv(self) -> list[str]:
        """pytest, quiet, writing no cache into the copy, running benchmarks once, untimed."""
        argv = [self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        return [*argv, "--benchmark-disable"] if self.benchmark_plugin else argv

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
        paths += self.lent
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
    ) -> TestRun:
        """Run the tests; with pytest, only ``select`` (node ids) if given, never ``deselect``,
        each test's outcome written by the results plugin. The run is judged against the
        project's ``suite`` (its baseline, once known): ``ok`` and ``judgement`` say how."""
        argv = self.tests_argv
        chosen = tuple(dict.fromkeys(select)) if select else None
        if not is_pytest(argv):
            result = sandbox.run(
                argv, timeout=timeout or self.test_timeout, env=self.env(sandbox, extra_env)
            )
            run = _run_of(result, chosen, tuple(deselect), per_test=False)
            return replace(run, judgement=judge(run, self.suite))
        if chosen:  # the paths a command names would be collected beside the chosen tests
            argv = without_paths(argv, sandbox.work)
        argv = [*argv, "-p", RESULTS_PLUGIN, "-rfE", *deselect_args(deselect), *(chosen or ())]
        with ResultsFile(sandbox) as results:
            env = self.env(sandbox, {**(extra_env or {}), **results.env})
            result = sandbox.run(argv, timeout=timeout or self.test_timeout, env=env)
            record, problem = results.read()
        run = _run_of(result, chosen, tuple(deselect), True, record, problem)
        # The exit code alone never passes pytest: its records must say so too.
        judgement = judge(run, self.suite)
        return replace(run, ok=judgement.passed, judgement=judgement)

    def workload_argv(self, sandbox: Sandbox) -> tuple[list[str], str]:
        """The workload to profile, and how to describe it."""
        if self.workload:
            return ["sh", "-c", self.workload], self.workload
        # Without the plugin the benchmarks' fixture does not exist: they cannot run.
        benchmarks = find_benchmarks(sandbox.work) if self.benchmark_plugin else []
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


def project_for(interpreter: Interpreter, config: RunConfig, lent: Sequence[str] = ()) -> Project:
    """The project of ``config``, run with ``interpreter`` (and ``lent`` on its path)."""
    return Project(
        test_command=config.test_command,
        workload=config.workload,
        python=interpreter.python,
        benchmark_plugin=interpreter.has("pytest-benchmark"),
        lent=tuple(lent),
        readable=interpreter.readable(config.repo),
        test_timeout=config.test_timeout,
    )


def open_project(
    config: RunConfig, workspace: Workspace, notes: list[str] | None = None
) -> Project:
    """The project of ``config`` for one run in ``workspace``: its interpreter found (the note
    in ``notes`` says which, and how), shown to the workspace's sandboxes, and what the
    harness needs lent to it in a folder of the workspace."""
    interpreter = find_python(config.repo, config.python)
    if is_pytest(project_for(interpreter, config).tests_argv) and not interpreter.has("pytest"):
        raise UsageError(
            f"the project's interpreter {interpreter.python} ({interpreter.found_by}) has no "
            "pytest, which runs the project's tests: install it into the project's environment"
            " or choose another with --python"
        )
    folder = workspace.folder()
    lent = lend_harness_libraries(interpreter, folder)
    project = project_for(interpreter, config, [str(folder)] if lent else [])
    workspace.show(project.readable)
    if config.workload:  # a script the workload names outside the repo: the user's to show
        workspace.show(outside_paths(config.workload, config.repo, Path.cwd()))
    if notes is not None:
        notes.append(interpreter.note)
        if lent:
            notes.append(describe(lent))
    return project


# pytest options whose value is a separate word that may name a path (never a test to run).
_PATH_VALUED = frozenset({
    "-c", "--config-file", "--rootdir", "--confcutdir", "--basetemp", "--ignore",
    "--ignore-glob", "--junitxml", "--junit-xml", "--log-file", "--cov", "--cov-config",
    "-p", "-k", "-m", "-o", "--override-ini", "-W", "--pythonwarnings", "--deselect",
})  # fmt: skip


def without_paths(argv: list[str], root: Path) -> list[str]:
    """``argv`` (a pytest command) without the files and folders it names to collect, so that
    only the tests asked for run; an option's own value stays."""
    start = 3 if argv[1:3] == ["-m", "pytest"] else 1
    kept = argv[:start]
    for position in range(start, len(argv)):
        word, before = argv[position], argv[position - 1]
        is_value = before in _PATH_VALUED
        names_path = not word.startswith("-") and (root / word.split("::")[0]).exists()
        if is_value or not names_path:
            kept.append(word)
    return kept


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


def _run_of(
    result: Result,
    select: tuple[str, ...] | None,
    deselect: tuple[str, ...],
    per_test: bool,
    record: SuiteRecord | None = None,
    problem: str | None = None,
) -> TestRun:
    """The run as the command's exit code tells it; with pytest, as its records tell it."""
    output = result.stdout + result.stderr
    if record is not None:
        failed = tuple(record.failures())
    else:
        failed = tuple(dict.fromkeys(m.group(2) for m in _SUMMARY_LINE.finditer(output)))
    return TestRun(
        ok=result.ok,
        no_tests=per_test and result.returncode == PYTEST_NO_TESTS,
        failed=failed,
        duration=result.duration,
        timed_out=result.timed_out,
        output=output,
        outcomes=None if record is None else record.outcomes(),
        per_test=per_test,
        record=record,
        record_problem=problem,
        returncode=result.returncode,
        select=select,
        deselect=deselect,
    )


RESULTS_MAX_BYTES = 64 * 1024 * 1024


class ResultsFile:
    """Where the results plugin writes, and the one-time key that signs its records.

    Both live in the sandbox's temp directory under names no one can guess. The key is written
    before the run and deleted by the plugin as it starts, before any project or candidate
    code is imported; the records are read back as hostile data (no links, no FIFOs, a size
    cap) and accepted only with an intact signature chain.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.key = secrets.token_bytes(32)
        self.folder = sandbox.tmp / secrets.token_hex(8)  # a name that says nothing
        self.path = self.folder / "results.jsonl"
        self.key_path = self.folder / "key"

    @property
    def env(self) -> dict[str, str]:
        return {"EVOLVER_RESULTS": str(self.path), "EVOLVER_RESULTS_KEY": str(self.key_path)}

    def __enter__(self) -> ResultsFile:
        # The sandbox hands ``tmp/`` to the user its commands run as, when it starts one.
        self.folder.mkdir(mode=0o700)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(self.key_path, flags, 0o600)
        try:
            os.write(fd, self.key)
        finally:
            os.close(fd)
        return self

    def read(self) -> tuple[SuiteRecord | None, str | None]:
        """The checked record, or why there is none."""
        try:
            data = read_bounded(self.path, RESULTS_MAX_BYTES)
        except UntrustedDataError as error:
            return None, f"the results file: {error}"
        try:
            return parse_results(data, self.key), None
        except MalformedResults as error:
            return None, f"the results file is malformed: {error}"

    def __exit__(self, *exc_info: object) -> None:
        # A candidate may have swapped the folder for a link: rmtree refuses to follow it.
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.folder.is_symlink():
            self.folder.unlink()


_BENCHMARK_FIXTURE = re.compile(r"def test\w*\([^)]*\bbenchmark\b")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "site-packages", "build", "dist", ".tox"}


def find_benchmarks(root: Path) -> list[str]:
    """Test files (as the project's pytest configuration finds them) that use pytest-benchmark's
    ``benchmark`` fixture, relative to ``root``."""
    found = []
    layout = TestLayout.of(root)
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if _SKIP_DIRS.intersection(relative.parts) or not layout.is_test(relative.as_posix()):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _BENCHMARK_FIXTURE.search(text):
            found.append(relative.as_posix())
    return found

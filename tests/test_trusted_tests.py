"""A test run is judged from the trusted plugin's signed records, against the baseline, never
by an exit code: candidates that fake a pass (``atexit`` + ``os._exit(0)``, exiting or dying
mid-run, skipping, breaking collection, rewriting pytest's reports, replacing the results
file) are judged failed, with a reason; honest runs pass."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import RunConfig
from agent.profile.baseline import baseline
from agent.project.runner import HARNESS_DIR, Project
from agent.project.runner import TestRun as Run  # not "Test*": pytest would try to collect it
from agent.project.workspace import Workspace
from agent.verify.suite import MalformedResults, SuiteBaseline, judge, parse_results
from tests.conftest import write_files

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def double(x):
            return x * 2
    """,
    "tests/__init__.py": "",
    "tests/test_core.py": """
        import pytest

        from pkg.core import double


        def test_double():
            assert double(2) == 4


        def test_more():
            assert double(3) == 6


        @pytest.mark.skip(reason="never")
        def test_skipped():
            pass
    """,
    "tests/test_other.py": """
        from pkg.core import double


        def test_after():
            assert double(0) == 0
    """,
}
ALL = (
    "tests/test_core.py::test_double",
    "tests/test_core.py::test_more",
    "tests/test_core.py::test_skipped",
    "tests/test_other.py::test_after",
)
WRONG = "def double(x):\n    return x * 3\n"  # fails test_double and test_more

# Finds the plugin's results file from inside the tests' process, as an attacker would.
FIND_RESULTS = """
import glob, os
def _results():
    [path] = glob.glob(os.path.join(os.environ["TMPDIR"], "*", "results.jsonl"))
    return path
"""

CANDIDATES = {
    "atexit_exit_0": textwrap.dedent("""
        import atexit, os, sys
        if "pytest" in sys.modules:
            atexit.register(lambda: os._exit(0))
    """)
    + WRONG,
    "exit_0_mid_run": """
        import os
        def double(x):
            if x == 3:
                os._exit(0)
            return x * 2
    """,
    "sigkill_after_failure": """
        import os, signal
        def double(x):
            if x == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return 5
    """,
    "breaks_import": "def twice(x):\n    return x * 2\n",
    "skips_module": """
        import pytest
        pytest.skip("not here", allow_module_level=True)
        def double(x):
            return x * 2
    """,
    "skips_tests": """
        import pytest
        def double(x):
            pytest.skip("not here")
    """,
    "rewrites_reports": textwrap.dedent("""
        import _pytest.reports as reports
        _original = reports.TestReport.from_item_and_call
        def _passed(cls, item, call):
            report = _original.__func__(cls, item, call)
            report.outcome, report.longrepr = "passed", None
            return report
        reports.TestReport.from_item_and_call = classmethod(_passed)
    """)
    + WRONG,
    "adds_report_hook": textwrap.dedent("""
        import gc, pytest
        from _pytest.config import PytestPluginManager
        class Forge:
            @pytest.hookimpl(wrapper=True)
            def pytest_runtest_makereport(self, item, call):
                report = yield
                report.outcome, report.longrepr = "passed", None
                return report
        for manager in [o for o in gc.get_objects() if isinstance(o, PytestPluginManager)]:
            manager.register(Forge())
    """)
    + WRONG,
}

# Each replaces the results file as the process ends, after a failing run.
RESULTS_ATTACKS = {
    "symlink_to_dev_zero": "os.unlink(path); os.symlink('/dev/zero', path)",
    "fifo": "os.unlink(path); os.mkfifo(path)",
    "truncated": "os.truncate(path, 0)",
    "forged": ("open(path, 'w').write('0' * 32 + ' {\"seq\":0,\"kind\":\"start\"}\\n')"),
    "deleted": "os.unlink(path)",
}


def candidate_replacing_results(action: str) -> str:
    return (
        FIND_RESULTS
        + "import atexit\n"
        + "def _attack():\n"
        + "    path = _results()\n"
        + f"    {action}\n"
        + "    os._exit(0)\n"
        + "atexit.register(_attack)\n"
        + WRONG
    )


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Project]]:
    """The project, and its baseline: two honest runs on HEAD."""
    with Workspace() as workspace:
        write_files(workspace.state, PROJECT)
        config = RunConfig(repo=tmp_path_factory.mktemp("repo"))  # type: ignore[call-arg]
        project = baseline(config, workspace, lambda _: None, [])
        yield workspace, project


def run_candidate(
    bench: tuple[Workspace, Project], name: str, core: str, select: list[str] | None = None
) -> Run:
    workspace, project = bench
    with workspace.sandbox(f"candidate-{name}") as sandbox:
        sandbox.write_file("pkg/core.py", textwrap.dedent(core).lstrip())
        return project.run_tests(sandbox, select=select, deselect=project.flaky_tests)


def test_the_baseline_keeps_each_test_and_what_it_did(bench: tuple[Workspace, Project]) -> None:
    suite = bench[1].suite
    assert suite is not None and suite.per_test
    assert sorted(suite.collected) == sorted(ALL)
    assert suite.outcomes["tests/test_core.py::test_skipped"] == "skipped"
    assert suite.outcomes["tests/test_core.py::test_double"] == "passed"
    assert any(hook.startswith("_pytest.") for hook in suite.hooks)


def test_an_honest_run_passes_with_its_skipped_test(bench: tuple[Workspace, Project]) -> None:
    run = run_candidate(bench, "honest", PROJECT["pkg/core.py"])
    judged = judge(run, bench[1].suite)
    assert judged.passed and judged.per_test, judged.reason
    assert run.ok and run.record is not None
    assert run.record.outcome("tests/test_core.py::test_skipped") == "skipped"
    assert judged.reason == "4 tests ran and passed"


def test_a_targeted_run_expects_only_the_selected_tests(bench: tuple[Workspace, Project]) -> None:
    select = ["tests/test_other.py::test_after"]
    judged = judge(run_candidate(bench, "targeted", PROJECT["pkg/core.py"], select), bench[1].suite)
    assert judged.passed and judged.reason == "1 tests ran and passed"


EXPECTED = {
    "atexit_exit_0": "failing tests: tests/test_core.py::test_double, "
    "tests/test_core.py::test_more",
    "exit_0_mid_run": "pytest did not reach its end (1 of 4 tests ran; never finished: "
    "tests/test_core.py::test_more",
    "sigkill_after_failure": "failing tests: tests/test_core.py::test_double",
    "breaks_import": "collection error in tests/test_core.py: ImportError: cannot import name "
    "'double' from 'pkg.core'",
    "skips_module": "collected 0 tests where the baseline collected 4: missing "
    "tests/test_core.py::test_double",
    "skips_tests": "skipped tests that pass on HEAD: tests/test_core.py::test_double, "
    "tests/test_core.py::test_more, tests/test_other.py::test_after",
    "rewrites_reports": "pytest's own reporting code was replaced while the tests ran: "
    "_pytest.reports.TestReport.from_item_and_call",
    "adds_report_hook": "adds pytest hooks the baseline did not have: "
    "pkg.core.Forge.pytest_runtest_makereport",
}


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_a_hostile_candidate_is_judged_failed(bench: tuple[Workspace, Project], name: str) -> None:
    run = run_candidate(bench, name, CANDIDATES[name])
    judged = judge(run, bench[1].suite)
    assert not judged.passed and not run.ok
    assert EXPECTED[name] in judged.reason, judged.reason
    if name in ("atexit_exit_0", "exit_0_mid_run", "rewrites_reports", "adds_report_hook"):
        assert run.returncode == 0  # the exit code alone would have passed it


@pytest.mark.parametrize("attack", sorted(RESULTS_ATTACKS))
def test_a_replaced_results_file_fails_quickly(
    bench: tuple[Workspace, Project], attack: str
) -> None:
    started = time.monotonic()
    run = run_candidate(bench, attack, candidate_replacing_results(RESULTS_ATTACKS[attack]))
    judged = judge(run, bench[1].suite)
    assert time.monotonic() - started < 60
    assert run.returncode == 0 and not judged.passed and not run.ok
    assert judged.reason.startswith("no trusted test results: the results file"), judged.reason
    reasons = {
        "symlink_to_dev_zero": "cannot open results.jsonl",
        "fifo": "results.jsonl is not a regular file",
        "truncated": "it is empty",
        "forged": "record 0 does not carry the plugin's signature",
        "deleted": "cannot open results.jsonl: No such file or directory",
    }
    assert reasons[attack] in judged.reason


def test_a_command_that_is_not_pytest_is_judged_by_its_exit_code(tmp_path: Path) -> None:
    with Workspace() as workspace:
        write_files(workspace.state, {"check.sh": "test -f pass\n"})
        project = Project(test_command=("sh", "check.sh"))
        with workspace.sandbox("failing") as sandbox:
            failing = judge(project.run_tests(sandbox), SuiteBaseline(per_test=False))
        (workspace.state / "pass").write_text("")
        with workspace.sandbox("passing") as sandbox:
            passing = judge(project.run_tests(sandbox), SuiteBaseline(per_test=False))
    assert passing.passed and not passing.per_test
    assert passing.reason == "exit code 0 (exit code only, not per test)"
    assert not failing.passed and not failing.per_test
    assert failing.reason == "exit code 1 (exit code only, not per test)"


# The file protocol itself: records written with the plugin's own writer, then tampered with.

KEY = b"k" * 32


def plugin_sink(path: Path) -> Any:
    sys.path.insert(0, str(HARNESS_DIR))
    try:
        import evolver_results  # the plugin, as a module: without its variables it starts nothing
    finally:
        sys.path.remove(str(HARNESS_DIR))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    return evolver_results._Sink(fd, KEY), fd


def honest_records(path: Path) -> bytes:
    sink, fd = plugin_sink(path)
    sink.emit("start", {"pid": 1})
    sink.emit("collected", {"ids": ["t.py::test_a"]})
    for when in ("setup", "call", "teardown"):
        sink.emit("report", {"node": "t.py::test_a", "when": when, "outcome": "passed"})
    sink.emit("end", {"exitstatus": 0, "collect": 0, "report": 3, "replaced": [], "hooks": []})
    os.close(fd)
    return path.read_bytes()


def test_the_records_of_an_honest_run_parse(tmp_path: Path) -> None:
    record = parse_results(honest_records(tmp_path / "r"), KEY)
    assert record.finished and record.exit_status == 0
    assert record.outcomes() == {"t.py::test_a": "passed"}


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda lines: lines[:3] + lines[4:], "record 3 does not carry"),
        (lambda lines: [lines[0], lines[1], lines[2], lines[4], lines[3], lines[5]], "record 3"),
        (lambda lines: [*lines[:4], lines[4].replace(b"passed", b"failed"), lines[5]], "record 4"),
        (lambda lines: lines[:5], None),  # no end: parses, but unfinished
    ],
)
def test_tampered_records_are_refused(tmp_path: Path, tamper: Any, reason: str | None) -> None:
    lines = honest_records(tmp_path / "r").splitlines(keepends=True)
    assert len(lines) == 6
    data = b"".join(tamper(lines))
    if reason is None:
        assert not parse_results(data, KEY).finished
        return
    with pytest.raises(MalformedResults, match=reason):
        parse_results(data, KEY)
    with pytest.raises(MalformedResults, match="cut off"):
        parse_results(honest_records(tmp_path / "s")[:-1], KEY)


def test_records_the_plugin_would_not_write_are_refused(tmp_path: Path) -> None:
    sink, fd = plugin_sink(tmp_path / "r")
    sink.emit("start", {})
    sink.emit("collected", {"ids": ["t.py::test_a"]})
    sink.emit("report", {"node": "t.py::test_a", "when": "call", "outcome": "passed"})
    os.close(fd)
    with pytest.raises(MalformedResults, match="call out of order"):
        parse_results((tmp_path / "r").read_bytes(), KEY)

    sink, fd = plugin_sink(tmp_path / "s")
    sink.emit("start", {})
    sink.emit("collected", {"ids": []})
    sink.emit("end", {"exitstatus": 0, "collect": 0, "report": 5})
    os.close(fd)
    with pytest.raises(MalformedResults, match="the end counts 5 report records where 0"):
        parse_results((tmp_path / "s").read_bytes(), KEY)

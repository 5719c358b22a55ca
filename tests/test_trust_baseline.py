"""Flaky baselines are found and judge nothing; the whole result is confirmed at the end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from agent import loop
from agent.config import RunConfig
from agent.errors import UsageError
from agent.profile.baseline import baseline, flaky_tests
from agent.project.runner import Project
from agent.project.runner import TestRun as Run  # not "Test*": pytest would try to collect it
from agent.project.workspace import Workspace
from agent.record.confirm import NotConfirmed, change, confirm
from sandbox import Sandbox
from tests.conftest import KEYS_PROJECT, MakeRepo, evolver, git, write_files

# Fails on the first run in a copy and passes on the second: the counter lives in the copy,
# which the two baseline runs share. In every fresh copy (a candidate's) it fails, so a
# candidate is only accepted if this test is not used to judge it.
FLAKY_TEST = """
    from pathlib import Path

    from pkg.core import double

    COUNTER = Path(__file__).with_name("runs.txt")


    def test_sometimes():
        runs = int(COUNTER.read_text()) if COUNTER.exists() else 0
        COUNTER.write_text(str(runs + 1))
        assert double(runs) % 4 == 2
"""

# Reached only by a flaky test; a rule has a candidate for it (`k in d.keys()`).
SEEN = """
    def known(d, keys):
        return [k for k in keys if k in d.keys()]
"""
FLAKY_SEEN_TEST = FLAKY_TEST.replace(
    "from pkg.core import double", "from pkg.core import double\n    from pkg.seen import known"
).replace("assert double(runs)", "assert known({1: 1}, [runs]) == [1] and double(runs)")


BENCHMARKS = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        addopts = "--benchmark-disable"
    """,
    "benchmarks/test_bench.py": """
        from pkg.core import count_known, double


        def test_count_known(benchmark):
            d = {i: i for i in range(1000)}
            benchmark(count_known, d, list(range(0, 30000, 3)))


        def test_double(benchmark):
            benchmark(double, 21)
    """,
}


@pytest.mark.pipeline
def test_flaky_test_judges_nothing_its_target_is_skipped_and_the_result_is_confirmed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo(
        {**KEYS_PROJECT, **BENCHMARKS, "tests/test_flaky.py": FLAKY_SEEN_TEST, "pkg/seen.py": SEEN}
    )
    report_path = tmp_path / "report.json"
    done = evolver(
        "run", str(repo), "--branch", "evolver/flaky", "--json", str(report_path),
        "--target", "pkg/core.py::count_known", "--target", "pkg/seen.py::known",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    flaky = "tests/test_flaky.py::test_sometimes"
    assert report["flaky_tests"] == [flaky]
    notes = "\n".join(report["notes"])
    assert f"not used to judge candidates: {flaky}" in notes
    # known is reached by the flaky test: skipped, its candidate never verified.
    assert "pkg/seen.py::known: skipped: tests that reach it are flaky on HEAD" in notes
    assert {c["target"] for c in report["candidates"]} == {"pkg/core.py::count_known"}
    # count_known's candidate passed the full suite, which the flaky test would have failed.
    [candidate] = report["candidates"]
    assert candidate["committed"], candidate
    assert "if k in d:" in git(repo, "show", "evolver/flaky:pkg/core.py")
    # The whole result: the repo's benchmarks, base against result, by their own medians.
    confirmation = report["confirmation"]
    assert confirmation["method"] == "benchmarks", notes
    assert confirmation["what"] == "benchmarks: benchmarks/test_bench.py"
    assert confirmation["runs"] == 3
    ratios = confirmation["benchmarks"]
    assert set(ratios) == {
        "benchmarks/test_bench.py::test_count_known",
        "benchmarks/test_bench.py::test_double",
    }
    assert ratios["benchmarks/test_bench.py::test_count_known"] > 1.05
    assert confirmation["base_seconds"] > 0 and confirmation["result_seconds"] > 0
    assert confirmation["change"] in {"faster", "slower", "about the same", "too noisy to tell"}
    assert "whole result" in done.stdout and "geometric mean of 2 benchmarks" in done.stdout


@pytest.mark.parametrize(
    ("base", "result", "expected"),
    [
        ([1.30, 1.31, 1.29], [1.20, 1.19, 1.21], "faster"),
        ([1.20, 1.19, 1.21], [1.30, 1.31, 1.29], "slower"),
        ([1.43, 1.40, 1.52], [1.48, 1.52, 1.39], "too noisy to tell"),  # overlapping runs
        ([1.30, 1.31], [1.20, 1.19], "too noisy to tell"),  # too few runs to order
        ([1.30, 1.31, 1.29], [1.29, 1.28, 1.27], "about the same"),  # ordered, within 2%
    ],
)
def test_the_whole_result_names_a_change_only_when_its_runs_show_it(
    base: list[float], result: list[float], expected: str
) -> None:
    assert change(
        base, result, sorted(base)[len(base) // 2] / sorted(result)[len(result) // 2]
    ) == (expected)


def test_confirmation_by_wall_time_leaves_flaky_tests_out(tmp_path: Path) -> None:
    files = {**KEYS_PROJECT, "tests/test_flaky.py": FLAKY_TEST}
    faster = KEYS_PROJECT["pkg/core.py"].replace("d.keys()", "d")
    with Workspace() as workspace:
        write_files(workspace.state, files)
        base_tree = workspace.root / "base"
        write_files(base_tree, files)
        workspace.update({"pkg/core.py": textwrap.dedent(faster).lstrip()})
        with (
            Sandbox.create(workspace.sandboxes, base_tree) as base,
            workspace.sandbox("result") as result,
        ):
            steps: list[str] = []
            project = Project(flaky_tests=("tests/test_flaky.py::test_sometimes",))
            confirmed = confirm(project, base, result, steps.append, runs=2)
            with pytest.raises(NotConfirmed, match=r"the test suite\) failed: .* on the base"):
                confirm(Project(), base, result, steps.append, runs=1)
    assert confirmed.method == "wall time" and confirmed.what == "the test suite"
    assert confirmed.runs == 2 and confirmed.benchmarks == {}
    assert confirmed.speedup == confirmed.wall_speedup > 0
    assert confirmed.change in {"too noisy to tell", "about the same"}  # 2 runs cannot order
    assert steps[:4] == [
        "confirming the result: the test suite, base run 1/2",
        "confirming the result: the test suite, result run 1/2",
        "confirming the result: the test suite, result run 2/2",
        "confirming the result: the test suite, base run 2/2",
    ]


def baseline_of(tree: Path, files: dict[str, str], **config: object) -> tuple[Project, list[str]]:
    """The baseline stage alone, on ``files``."""
    notes: list[str] = []
    with Workspace() as workspace:
        write_files(workspace.state, files)
        settings = RunConfig(repo=tree, **config)  # type: ignore[arg-type]
        project = baseline(settings, workspace, loop.Silent().step, notes)
    # The first notes name the project's interpreter and what it was lent; the baseline's
    # own follow them.
    assert notes[0].startswith("project interpreter: "), notes
    return project, [note for note in notes[1:] if not note.startswith("lent to the project")]


def test_per_test_outcomes_become_node_ids(tmp_path: Path) -> None:
    files = {
        "tests/__init__.py": "",
        "tests/test_kinds.py": """
            import pytest


            class TestGroup:
                def test_in_class(self):
                    pass


            @pytest.mark.parametrize("x", [1.5, "a.b"])
            def test_params(x):
                pass


            @pytest.mark.skip(reason="never")
            def test_skipped():
                pass
        """,
        "tests/test_flip.py": textwrap.dedent(FLAKY_TEST).replace("pkg.core", "tests.helpers"),
        "tests/helpers.py": "def double(x):\n    return 2 * x\n",
    }
    project, notes = baseline_of(tmp_path, files)
    assert project.flaky_tests == ("tests/test_flip.py::test_sometimes",)
    assert project.not_flaky(
        [
            "tests/test_flip.py::test_sometimes",
            "tests/test_kinds.py::TestGroup::test_in_class",
            "tests/test_kinds.py::test_params[1.5]",
        ]
    ) == ["tests/test_kinds.py::TestGroup::test_in_class", "tests/test_kinds.py::test_params[1.5]"]
    assert len(notes) == 1 and "tests/test_flip.py::test_sometimes" in notes[0]

    with Workspace() as workspace:
        write_files(workspace.state, files)
        with workspace.sandbox("outcomes") as sandbox:
            outcomes = Project().run_tests(sandbox).outcomes
    assert outcomes == {
        "tests/test_flip.py::test_sometimes": "failed",
        "tests/test_kinds.py::TestGroup::test_in_class": "passed",
        "tests/test_kinds.py::test_params[1.5]": "passed",
        "tests/test_kinds.py::test_params[a.b]": "passed",
        "tests/test_kinds.py::test_skipped": "skipped",
    }


def test_consistent_failure_still_stops_the_run(tmp_path: Path) -> None:
    files = {
        "tests/test_bad.py": "def test_broken():\n    assert 1 == 2\n",
        "tests/test_flip.py": textwrap.dedent(FLAKY_TEST).replace("pkg.core", "tests.helpers"),
        "tests/helpers.py": "def double(x):\n    return 2 * x\n",
    }
    with pytest.raises(UsageError, match="baseline tests fail") as raised:
        baseline_of(tmp_path, files)
    assert "tests/test_bad.py::test_broken" in str(raised.value)
    assert "test_flip" not in str(raised.value)  # the flaky one is not what stops it


def test_a_flaky_command_that_is_not_pytest_is_said_so(tmp_path: Path) -> None:
    # Passes on the first run in a copy, fails on the second.
    script = "n=$(cat runs 2>/dev/null || echo 0); echo $((n + 1)) > runs; test $n = 0"
    project, notes = baseline_of(tmp_path, {"check.sh": script + "\n"}, test_command="sh check.sh")
    assert project.flaky_tests == ()
    [note] = notes
    assert "passed once and failed once" in note and "it is not pytest" in note

    always = "exit 1\n"
    with pytest.raises(UsageError, match="baseline tests fail"):
        baseline_of(tmp_path, {"check.sh": always}, test_command="sh check.sh")


def run_of(outcomes: dict[str, str] | None, ok: bool = True) -> Run:
    return Run(ok, False, (), 1.0, False, "", outcomes)


def test_flaky_tests_from_two_runs() -> None:
    first = {"t.py::test_a": "passed", "t.py::test_ab": "passed", "t.py::test_c": "skipped"}
    second = {**first, "t.py::test_a": "failed", "t.py::test_c": "passed"}
    notes: list[str] = []
    flaky = flaky_tests(run_of(first), run_of(second, ok=False), notes)
    assert flaky == ("t.py::test_a", "t.py::test_c")
    assert "left out with them, as pytest deselects by prefix: t.py::test_ab" in notes[1]
    # A run that fails with no failing test to show for it (a crash, a plugin) stops the run.
    with pytest.raises(UsageError, match="baseline tests fail"):
        flaky_tests(run_of(first), run_of(first, ok=False), [])
    # No junit report from pytest: the overall results are compared, and a flip is said.
    notes = []
    assert flaky_tests(run_of(None), run_of(None, ok=False), notes) == ()
    assert "pytest wrote no per-test results" in notes[0]

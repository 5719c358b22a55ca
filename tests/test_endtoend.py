"""Judging a target end to end when none of its calls can be recorded (a generator argument).

A tiny real repository: a target that takes a generator, a workload that prints its results,
a test that reaches it. The baseline, the profile and the recording are real; each candidate
goes through the real cascade in its own sandbox.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.config import RunConfig
from agent.domain import (
    NOT_COMPARED,
    Candidate,
    Metrics,
    Outcome,
    RunReport,
    Target,
    TargetRef,
    Timing,
    Verdict,
    stages_passed,
)
from agent.profile.baseline import baseline
from agent.profile.profiling import profile_workload
from agent.profile.recording import Recording, record_calls
from agent.project.workspace import Workspace
from agent.rank.ranking import make_target
from agent.record import gitops
from agent.record.store import Store
from agent.reports.html import render_html
from agent.ship.pr_text import pr_body
from agent.verify.cascade import Bench, verify
from agent.verify.endtoend import FLOOR, reach, whole_bar, whole_speedup
from agent.verify.timing import TimingPlan
from tests.conftest import init_repo

SLOW = '''
def summarize(rows):
    """How many distinct values ``rows`` (any iterable) holds, and their sum."""
    seen = []
    for row in rows:
        if row not in seen:
            seen.append(row)
    return len(seen), sum(seen)
'''

FAST = '''
def summarize(rows):
    """How many distinct values ``rows`` (any iterable) holds, and their sum."""
    seen = list(dict.fromkeys(rows))
    return len(seen), sum(seen)
'''

# Its own code plus a harmless statement: the same speed, the same behaviour.
NEUTRAL = SLOW.replace("    seen = []\n", "    seen = []\n    pass\n")
# Faster, but the sum is off by one: the workload prints something else.
WRONG = FAST.replace("sum(seen)", "sum(seen) + 1")

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/agg.py": SLOW,
    "workload.py": """
        from pkg.agg import summarize

        for size in (1200, 1600, 2000, 2400):
            print(size, summarize(i % size for i in range(3 * size)))
    """,
    "tests/test_agg.py": """
        from pkg.agg import summarize


        def test_summarize_counts_distinct_values_of_a_generator():
            assert summarize(x for x in [3, 1, 3, 2]) == (3, 6)
    """,
}
TARGET = TargetRef("pkg/agg.py", "summarize")


@dataclass
class Judged:
    bench: Bench
    verdicts: dict[str, Verdict]


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judged]:
    repo = init_repo(tmp_path_factory.mktemp("endtoend") / "repo", PROJECT)
    config = RunConfig(repo=repo, workload="python workload.py", targets=(TARGET,))
    with Workspace(hidden=(repo,)) as workspace:
        gitops.export_tree(gitops.open_repo(repo), "HEAD", workspace.state)
        project = baseline(config, workspace, lambda _: None)
        with workspace.sandbox("profile") as sandbox:
            profile = profile_workload(project, sandbox)
        with workspace.sandbox("record") as sandbox:
            recording = record_calls(project, sandbox, [TARGET])[TARGET]
        target = make_target(workspace.state, TARGET, profile.functions.get(TARGET))
        # A small budget: the neutral candidate must stop at it, undecided or not faster.
        plan = TimingPlan(budget=8.0)
        with workspace.sandbox("original") as original:
            bench = Bench(project, workspace, target, recording, 1.05, original, plan)
            verdicts = {
                name: verify(candidate(name, text), bench)
                for name, text in (("fast", FAST), ("wrong", WRONG), ("neutral", NEUTRAL))
            }
            yield Judged(bench, verdicts)


def candidate(name: str, function: str) -> Candidate:
    text = textwrap.dedent(function).lstrip()
    return Candidate(f"{name}-0001", TARGET, "hand", {TARGET.path: text}, name)


@pytest.mark.pipeline
def test_the_generator_argument_cannot_be_recorded(judged: Judged) -> None:
    recording = judged.bench.recording
    assert not recording.timing_calls
    assert recording.skipped >= 4  # every call the workload and the test made
    assert judged.bench.target.profile is not None


@pytest.mark.pipeline
def test_a_faster_candidate_is_accepted_end_to_end(judged: Judged) -> None:
    verdict = judged.verdicts["fast"]
    assert verdict.accepted, verdict.reason
    assert verdict.not_compared == ("equivalence",)
    assert verdict.timing is not None and verdict.timing.method == "end to end"
    # The quadratic loop was most of it: the median ratio shows it; the interval's lower end
    # (past the bar, or it would not be accepted) swings with whole-process noise.
    assert verdict.timing.speedup > 1.5, verdict.reason
    assert verdict.timing.ci[0] >= 1.05, verdict.reason
    assert "tests: 1 passed;" in verdict.reason
    assert "not compared per call" in verdict.reason
    assert "arguments not picklable" in verdict.reason
    assert "end to end on the workload" in verdict.reason
    assert "the workload's output identical" in verdict.reason
    profile = judged.bench.target.profile
    assert profile is not None and f"for a {profile.share:.0%} share" in verdict.reason
    evidence = verdict.evidence
    assert evidence["differential"].startswith(NOT_COMPARED)
    assert "end to end" in evidence["timing"]
    assert "output identical" in evidence["workload"]
    assert "property" not in evidence and "probes" not in evidence  # nothing was generated


@pytest.mark.pipeline
def test_a_candidate_changing_the_output_is_rejected_at_behaviour(judged: Judged) -> None:
    verdict = judged.verdicts["wrong"]
    assert not verdict.accepted
    assert verdict.stage == "equivalence", verdict.reason
    assert verdict.reason.startswith("the workload's output differs from the original's on line 1")
    assert "'1200 (1200, 719401)' where the original prints '1200 (1200, 719400)'" in (
        verdict.reason
    )


@pytest.mark.pipeline
def test_a_neutral_candidate_is_never_accepted(judged: Judged) -> None:
    verdict = judged.verdicts["neutral"]
    assert not verdict.accepted
    assert verdict.stage == "speed", verdict.reason
    assert verdict.reason.startswith(("not proven faster", "too noisy to decide")), verdict.reason
    assert "end to end on the workload" in verdict.reason
    assert verdict.timing is not None and verdict.timing.method == "end to end"


@pytest.mark.pipeline
def test_nothing_is_accepted_when_nothing_observes_the_behaviour(judged: Judged) -> None:
    """A workload that prints nothing and no known test: only an exit code would judge."""
    bench = judged.bench
    quiet = dataclasses.replace(bench.project, workload="python workload.py > /dev/null")
    unknown = Recording(skipped=bench.recording.skipped)  # as when the tests are not pytest
    blind = Bench(quiet, bench.workspace, bench.target, unknown, 1.05, bench.original, bench.plan)
    verdict = verify(candidate("blind", FAST), blind)
    assert not verdict.accepted
    assert verdict.stage == "equivalence"
    assert verdict.reason.startswith("nothing observes its behaviour"), verdict.reason
    assert "the workload prints nothing" in verdict.reason


@pytest.mark.pipeline
def test_when_the_tests_are_the_workload_the_tests_that_reach_it_are_run(judged: Judged) -> None:
    bench = judged.bench
    suite = dataclasses.replace(bench.project, workload=None)
    found = reach(suite, bench.original, bench.recording)
    test = "tests/test_agg.py::test_summarize_counts_distinct_values_of_a_generator"
    assert found.select == (test,)
    assert found.description == "the test that reaches it"
    assert reach(bench.project, bench.original, bench.recording).select is None


@pytest.mark.pipeline
def test_the_run_notes_say_behaviour_was_not_compared_per_call(judged: Judged) -> None:
    [note] = [n for n in judged.bench.notes() if "per call" in n]
    assert note.startswith("behaviour not compared per call (")
    assert note.endswith("judged end to end on the workload")


def test_the_bar_is_the_whole_run_speedup_the_target_bar_gives() -> None:
    assert whole_speedup(2.0, 0.5) == pytest.approx(4 / 3)
    assert whole_bar(1.05, 1.0).value == pytest.approx(1.05)
    third = whole_bar(1.05, 0.31)
    assert third.value == pytest.approx(1 / (0.69 + 0.31 / 1.05))
    assert third.describe() == "bar 1.01× for a 31% share"
    tiny = whole_bar(1.05, 0.05)
    assert tiny.value == FLOOR
    assert "the floor" in tiny.describe() and "5% share" in tiny.describe()
    assert whole_bar(1.05, None).value == 1.05


def test_a_stage_that_compared_nothing_is_never_listed_as_passed(tmp_path: Path) -> None:
    assert "equivalence" not in stages_passed("speed", True, ("equivalence",))
    assert stages_passed("tests", False, ("equivalence",))[-1] == "import"
    outcome = Outcome(
        Candidate("c1", TARGET, "hand", {}, "fast"),
        Verdict(
            True,
            "speed",
            "behaviour: not compared per call",
            Timing(1.5, (1.3, 1.7), 6, 1.5, 0.995, method="end to end"),
            {"differential": "not compared per call: 4 calls, arguments not picklable"},
            not_compared=("equivalence",),
        ),
    )
    report = RunReport(str(tmp_path), "0" * 40, None, "hand")
    with Store(tmp_path) as store:
        run_id = store.begin(report, "evolver/x", {})
        store.target_done(run_id, make_target_stub(), [outcome], "0" * 40)
        [row] = store.candidates(run_id)
        [again] = store.outcomes(run_id)
    assert row["stages_not_compared"] == ["equivalence"]
    assert "equivalence" not in row["stages_passed"] and "speed" in row["stages_passed"]
    assert row["timing_method"] == "end to end"
    assert again.verdict.not_compared == ("equivalence",)
    assert again.verdict.timing is not None and again.verdict.timing.method == "end to end"


def make_target_stub() -> Target:
    return Target(TARGET, SLOW, 1, Metrics(1, 1.0, 100.0, 5))


def test_reports_do_not_tick_a_check_that_compared_nothing() -> None:
    candidate = {
        "id": "c1",
        "target": str(TARGET),
        "summary": "fast",
        "provider": "hand",
        "verdict": "accepted",
        "stage": "speed",
        "reason": "…",
        "speedup": 1.5,
        "ci": [1.3, 1.7],
        "confidence": 0.995,
        "first_call_speedup": 1.5,
        "committed": True,
        "commit": "a" * 40,
        "timing_method": "end to end",
        "not_compared": ["equivalence"],
        "evidence": {
            "differential": "not compared per call: 4 calls, arguments not picklable",
            "timing": "1.50× faster end to end on the workload",
        },
        "patch": None,
    }
    report = {"version": 1, "provider": "hand", "candidates": [candidate], "targets": []}
    body = pr_body(report)
    assert "recorded and generated calls" not in body  # no claim of a comparison not made
    assert "not compared per call" in body
    assert "passed every check that could be made" in body
    assert "| 1.50× end to end |" in body
    html = render_html(json.loads(json.dumps(report)))
    assert 'class="not-compared"' in html

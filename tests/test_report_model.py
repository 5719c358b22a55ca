"""The report model (``agent.reports.model``) writes the JSON report exactly as format 1 always
was written, reads every report of that format back unchanged, and refuses what is not one;
the formatting and chart helpers every reader shares."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from agent.domain import (
    Candidate,
    Confirmation,
    FunctionProfile,
    Metrics,
    Outcome,
    ProbeDifference,
    Risk,
    RunReport,
    Target,
    TargetRef,
    Timing,
    Verdict,
)
from agent.reports import format as fmt
from agent.reports.chart import LogScale, tick_label
from agent.reports.model import (
    Report,
    ReportConfirmation,
    ReportError,
    report_json,
    target_json,
    write_json,
)
from tests.test_html_report import full_report, v1_report
from tests.test_pr import REPORT

# ---------------------------------------------------------------------------------------------
# The oracle: format 1 as agent/reports/terminal.py wrote it before the model existed, kept
# verbatim (the keys, their order, the rounding) so that the model is held to it.


def legacy_target_json(target: Target) -> dict[str, Any]:
    profile = target.profile
    return {
        "target": str(target.ref),
        "share": round(profile.share, 6) if profile else 0.0,
        "complexity": target.metrics.complexity,
        "own_time": round(profile.own_time, 6) if profile else None,
        "cum_time": round(profile.cum_time, 6) if profile else None,
        "calls": profile.calls if profile else None,
        "halstead_effort": target.metrics.halstead_effort,
        "maintainability": target.metrics.maintainability,
        "line": target.lineno,
    }


def legacy_outcome_json(outcome: Outcome) -> dict[str, Any]:
    verdict, timing = outcome.verdict, outcome.verdict.timing
    return {
        "id": outcome.candidate.id,
        "target": str(outcome.candidate.target),
        "provider": outcome.candidate.provider,
        "summary": outcome.candidate.summary,
        "strategy": outcome.candidate.strategy,
        "verdict": "accepted" if verdict.accepted else "rejected",
        "stage": verdict.stage,
        "reason": verdict.reason,
        "speedup": round(timing.speedup, 4) if timing else None,
        "ci": [round(timing.ci[0], 4), round(timing.ci[1], 4)] if timing else None,
        "confidence": timing.confidence if timing else None,
        "first_call_speedup": round(timing.first_call, 4) if timing else None,
        "timing_method": timing.method if timing else None,
        "not_compared": list(verdict.not_compared),
        "committed": outcome.committed,
        "commit": outcome.commit,
        "provenance": {k: v for k, v in outcome.candidate.provenance.items() if k != "reply"},
        "evidence": dict(verdict.evidence) or None,
        "probes": [
            {"call": found.call, "difference": found.difference}
            for found in verdict.probe_differences
        ],
        "risk": None
        if outcome.risk is None
        else {"level": outcome.risk.level, "reasons": list(outcome.risk.reasons)},
        "patch": outcome.patch,
    }


def legacy_report_json(report: RunReport) -> dict[str, Any]:
    confirmation = report.confirmation
    return {
        "version": 1,
        "run_id": report.run_id,
        "repo": report.repo,
        "base_commit": report.base_commit,
        "branch": report.branch,
        "provider": report.provider,
        "model": report.model,
        "started": report.started,
        "finished": report.finished,
        "hotspots": [
            {
                "target": str(ref),
                "share": round(p.share, 6),
                "own_time": round(p.own_time, 6),
                "cum_time": round(p.cum_time, 6),
                "calls": p.calls,
            }
            for ref, p in report.hotspots.items()
        ],
        "targets": [legacy_target_json(t) for t in report.targets],
        "candidates": [legacy_outcome_json(o) for o in report.outcomes],
        "accepted": report.accepted,
        "committed": report.committed,
        "notes": report.notes,
        "usage": report.usage,
        "flaky_tests": report.flaky_tests,
        "confirmation": None
        if confirmation is None
        else {
            "what": confirmation.what,
            "method": confirmation.method,
            "runs": confirmation.runs,
            "base_seconds": round(confirmation.base_seconds, 4),
            "result_seconds": round(confirmation.result_seconds, 4),
            "wall_speedup": round(confirmation.wall_speedup, 4),
            "speedup": round(confirmation.speedup, 4),
            "benchmarks": {name: round(r, 4) for name, r in confirmation.benchmarks.items()},
            "change": confirmation.change,
        },
        "sandbox": report.sandbox,
    }


# ---------------------------------------------------------------------------------------------
# Runs made of the domain's own types, covering every branch of the writer.

FAST = TargetRef("pkg/core.py", "count_known")
SLOW = TargetRef("pkg/core.py", "Cls.render")


def target(ref: TargetRef, profile: FunctionProfile | None) -> Target:
    metrics = Metrics(complexity=4, halstead_effort=123.456, maintainability=61.2, lines=9)
    return Target(ref, "def f(): pass\n", 12, metrics, profile)


def outcomes() -> list[Outcome]:
    committed = Outcome(
        Candidate(
            "a1a1a1a1",
            FAST,
            "openai",
            {"pkg/core.py": "x"},
            "use a set",
            provenance={"model": "gpt", "reply": "the whole reply", "tokens": 120},
            strategy="data-structure",
        ),
        Verdict(
            True,
            "speed",
            "same outcomes on 16 recorded calls",
            Timing(2.123456789, (1.987654321, 2.3456789), 40, 1.91234567, 0.995),
            evidence={"differential": "same results on 16 calls", "tests": "3 pass"},
            probe_differences=(ProbeDifference("f([[]])", "raises TypeError"),),
        ),
        committed=True,
        commit="c" * 40,
        patch="--- a/pkg/core.py\n+++ b/pkg/core.py\n",
        risk=Risk("medium", ("adds a cache", "changes iteration")),
    )
    beaten = Outcome(
        Candidate("b2b2", FAST, "rules", {}, "hoist", strategy="builtins+caching"),
        Verdict(
            True,
            "speed",
            "faster end to end",
            Timing(1.3333333, (1.1, 1.5), 12, 1.3, 0.95, "end to end"),
            not_compared=("equivalence",),
        ),
    )
    rejected = Outcome(
        Candidate("c3c3", SLOW, "rules", {}, "dedupe", problem="elided code"),
        Verdict(False, "equivalence", "raises <IndexError> on []"),
    )
    return [committed, beaten, rejected]


def full_run() -> RunReport:
    return RunReport(
        repo="/src/shop",
        base_commit="0123456789abcdef" * 2 + "01234567",
        branch="evolver/x",
        provider="openai",
        targets=[
            target(FAST, FunctionProfile(1.23456789, 2.3456789, 300, 0.41234567)),
            target(SLOW, None),
        ],
        outcomes=outcomes(),
        notes=["pkg/core.py::Cls.render: rules proposed nothing"],
        usage={"requests": 3, "input_tokens": 1200, "cost_usd": 0.0021},
        flaky_tests=["tests/test_clock.py::test_now"],
        confirmation=Confirmation(
            "pytest-benchmark",
            "benchmarks",
            3,
            2.512345,
            1.298765,
            1.8712345,
            "faster",
            {"test_total": 2.1234567, "test_empty": 1.0},
        ),
        sandbox=["network: none", "memory: 2048 MiB"],
        hotspots={
            FAST: FunctionProfile(1.23456789, 2.3456789, 300, 0.41234567),
            SLOW: FunctionProfile(0.5, 0.6, 9000, 0.2),
        },
        model="gpt-4o-mini",
        run_id=7,
        started="2025-03-04T05:06:07Z",
        finished="2025-03-04T05:09:08Z",
    )


RUNS = {
    "full": full_run(),
    "empty": RunReport(repo="/r", base_commit="0" * 40, branch=None, provider="rules"),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_model_writes_what_format_1_always_wrote(name: str, tmp_path: Path) -> None:
    run = RUNS[name]
    old = legacy_report_json(run)
    new = Report.from_run(run).to_json()
    assert new == old
    assert json.dumps(new, indent=2) == json.dumps(old, indent=2)  # the keys' order too
    assert report_json(run) == old
    assert [target_json(t) for t in run.targets] == [legacy_target_json(t) for t in run.targets]
    write_json(run, tmp_path / "report.json")
    assert (tmp_path / "report.json").read_text() == json.dumps(old, indent=2) + "\n"
    assert Report.read(tmp_path / "report.json") == Report.from_run(run)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_written_report_reads_back_unchanged(name: str) -> None:
    written = json.loads(json.dumps(report_json(RUNS[name])))
    read = Report.from_json(written)
    assert json.dumps(read.to_json()) == json.dumps(written)
    # Only the keys of what the run did not measure (memory, in a time-only run) or the candidate
    # did not do (change definitions besides its target) are absent.
    made = Report.from_run(RUNS[name])
    assert read.absent == made.absent <= {"objective"}
    assert all(c.absent <= {"memory", "changed", "changes"} for c in read.candidates)


def test_the_read_report_is_typed() -> None:
    report = Report.from_json(report_json(full_run()))
    committed, beaten, rejected = report.candidates
    assert report.committed_candidates == (committed,)
    assert committed.ci == (1.9877, 2.3457) and committed.risk is not None
    assert committed.risk.reasons == ("adds a cache", "changes iteration")
    assert committed.probes[0].call == "f([[]])" and "reply" not in committed.provenance
    assert beaten.accepted and not beaten.committed and beaten.end_to_end
    assert beaten.strategies == ("builtins", "caching") and rejected.strategies == ()
    assert rejected.speedup is None and rejected.evidence is None and not rejected.accepted
    assert report.level == "95%"  # the lowest of 99.5% and 95%; untimed ones do not count
    assert (
        report.confirmation is not None and report.confirmation.benchmarks["test_total"] == 2.1235
    )
    assert report.confirmation.change == report.confirmation.verdict == "faster"


def test_a_confirmation_from_before_its_change_was_kept_is_named_by_its_ratio() -> None:
    verdicts = [ReportConfirmation.from_json({"speedup": s}).verdict for s in (1.03, 0.97, 1.01)]
    assert verdicts == ["faster", "slower", "about the same"]
    assert ReportConfirmation.from_json({}).verdict == "unknown"
    noisy = {"speedup": 0.97, "change": "too noisy to tell"}
    assert ReportConfirmation.from_json(noisy).verdict == "too noisy to tell"


@pytest.mark.parametrize(
    "example", [v1_report(), full_report(), REPORT], ids=["v1", "v1-full", "pr-partial"]
)
def test_reports_from_before_the_optional_fields_read_back_unchanged(
    example: dict[str, Any],
) -> None:
    report = Report.from_json(example)
    assert report.to_json() == example
    assert Report.from_json(report.to_json()) == report


def test_absent_keys_read_as_defaults_and_stay_absent() -> None:
    report = Report.from_json(v1_report())
    assert report.run_id is None and report.hotspots == () and report.model is None
    assert {"run_id", "hotspots", "model", "started", "finished"} <= report.absent
    candidate = report.candidates[0]
    assert candidate.strategy is None and candidate.risk is None and candidate.probes == ()
    assert "strategy" not in candidate.to_json() and "hotspots" not in report.to_json()
    # Counts a hand-made report leaves out are counted, as the writer counts them.
    counted = Report.from_json({"version": 1, "candidates": v1_report()["candidates"]})
    assert (counted.accepted, counted.committed) == (1, 1)
    assert counted.to_json() == {"version": 1, "candidates": v1_report()["candidates"]}


def one(**candidate: Any) -> dict[str, Any]:
    """A report of one candidate."""
    return {"version": 1, "candidates": [candidate]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], r"expected a JSON report \(an object\)"),
        ({}, "not an Evolver JSON report: it has no version"),
        ({"version": 2}, "format version 2: this Evolver reads version 1"),
        ({"version": "1"}, "format version '1'"),
        ({"version": True}, "format version True"),
        ({"version": 1, "repo": 3}, "^repo: expected a string, got 3$"),
        ({"version": 1, "candidates": {}}, "^candidates: expected a list"),
        (one(speedup="fast"), r"^candidates\[0\]\.speedup: expected a number, got 'fast'$"),
        (one(speedup=True), r"candidates\[0\]\.speedup: expected a number"),
        (one(ci=[1.0]), r"candidates\[0\]\.ci: expected a list of two"),
        (one(verdict="maybe"), r"\.verdict: expected 'accepted' or 'rejected'"),
        (one(committed=1), r"\.committed: expected true or false"),
        (one(risk={"level": "low"}), r"\.risk: expected an object with level, reasons"),
        (one(evidence={"tests": 3}), r"\.evidence\.tests: expected a string"),
        (one(probes=[{"call": "f()"}]), r"\.probes\[0\]: expected an object with call"),
        ({"version": 1, "targets": [{"calls": 1.5}]}, r"targets\[0\]\.calls: expected an integer"),
        ({"version": 1, "confirmation": {"benchmarks": {"a": "b"}}}, r"benchmarks\.a: expected"),
        ({"version": 1, "notes": ["ok", None]}, r"notes\[1\]: expected a string, got None"),
    ],
)
def test_what_is_not_a_format_1_report_is_refused_with_where(data: Any, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        Report.from_json(data)


def test_a_file_that_is_not_json_is_a_report_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ReportError, match="is not JSON"):
        Report.read(path)


# ---------------------------------------------------------------------------------------------
# Formatting and the chart's axis


def test_formatting() -> None:
    assert fmt.times(1.234) == "1.23×" and fmt.times(12.04, 1) == "12.0×"
    assert (
        fmt.times(None) == "–"
        and fmt.times(math.inf) == "–"
        and fmt.times(None, missing="—") == "—"
    )
    assert [fmt.times_scaled(v) for v in (2.049, 12.46, 620.4)] == ["2.05×", "12.5×", "620×"]
    assert (
        fmt.interval((1.2, 1.3)) == "1.20–1.30×"
        and fmt.interval([1.2, 1.3], unit="") == "1.20–1.30"
    )
    assert fmt.interval(None) == "–" and fmt.interval((1.0, math.nan)) == "–"
    assert (
        fmt.percent(0.41) == "41.0%" and fmt.percent(0.5, 0) == "50%" and fmt.percent(None) == "–"
    )
    assert fmt.seconds(2.5) == "2.50 s" and fmt.wall(2.5, 1.3) == "2.50 s → 1.30 s"
    assert fmt.wall(None, 1.3) == "–" and fmt.fixed(1.2, 3) == "1.200"
    assert [fmt.duration(s) for s in (45.4, 181, 3720)] == ["45 s", "3 min 01 s", "1 h 02 min"]
    assert fmt.usd(0.0021) == "$0.0021" and fmt.usd(12.345) == "$12.35"
    assert fmt.plural(1, "target") == "1 target" and fmt.plural(2, "target") == "2 targets"
    assert fmt.plural(3, "batch", "batches") == "3 batches" and fmt.short_sha("a" * 40) == "a" * 10


def test_log_scale() -> None:
    scale = LogScale.around([620.0, 0.8], left=100.0, right=700.0)
    assert (scale.low, scale.high) == (0.5, 1000.0)
    ticks = scale.ticks()
    assert ticks[0] == 0.5 and ticks[-1] == 1000.0 and 2.0 in ticks and 5.0 in ticks
    assert scale.x(0.5) == 100.0 and scale.x(1000.0) == 700.0 and scale.x(1e9) == 700.0
    one, ten, hundred = scale.x(1.0), scale.x(10.0), scale.x(100.0)
    assert ten - one == pytest.approx(hundred - ten, abs=0.02)  # equal steps per decade
    assert {tick_label(t) for t in scale.labelled(ticks)} >= {"1×", "10×", "100×", "1000×"}
    crowded = LogScale(1e-3, 1e6, 0.0, 100.0)
    labelled = crowded.labelled(crowded.ticks())
    assert all(f"{t:e}".startswith("1") for t in labelled)  # only powers of ten have room
    assert scale.bar(1.0) == (one - 1, one + 1)  # no change: a stub at 1×
    assert scale.bar(0.8)[1] == one and scale.bar(2.0)[0] == one
    assert LogScale.around([1.0], 0.0, 100.0).low == 0.5  # room left of 1× even so

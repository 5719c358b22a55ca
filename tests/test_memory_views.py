"""Memory figures where people read a run's results besides the HTML page (which
tests/test_html_report.py covers): the pull request, and `evolver history` and `evolver show`.
Hand-made reports and runs: no pipeline runs here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from agent.cli import history as cli_history
from agent.domain import (
    Candidate,
    MemoryUse,
    Metrics,
    Outcome,
    RunReport,
    Target,
    TargetRef,
    Timing,
    Verdict,
)
from agent.record import store
from agent.reports.model import Report
from agent.ship.pr_text import pr_body, pr_title
from tests.conftest import KEYS_PROJECT, MakeRepo

EVIDENCE = (
    "peak memory 3.2 MiB → 1.0 MiB (3.20× less, 99% interval 3.10–3.30× less) on 14 recorded "
    "calls, 5 alternating fresh processes a side traced by tracemalloc"
)


def figures(original: int, candidate: int, ratio: float, ci: list[float]) -> dict[str, Any]:
    return {
        "original": original,
        "candidate": candidate,
        "ratio": ratio,
        "ci": ci,
        "confidence": 0.99,
        "processes": 5,
        "retained": [4096, 0],
        "rss": [60_000_000, 52_000_000],
    }


def candidate(target: str, summary: str, **fields: Any) -> dict[str, Any]:
    committed = fields.get("committed", False)
    return {
        "id": f"id-{summary}",
        "target": target,
        "provider": "rules",
        "summary": summary,
        "verdict": "accepted" if committed else "rejected",
        "stage": "speed",
        "reason": "same outcomes" if committed else "not proven leaner",
        "speedup": 1.02,
        "ci": [0.99, 1.05],
        "confidence": 0.995,
        "first_call_speedup": 1.0,
        "committed": committed,
        "commit": "c" * 40 if committed else None,
        **fields,
    }


def memory_report(objective: str = "memory") -> dict[str, Any]:
    """A run with memory in its objective: two leaner changes committed (one from a report
    without evidence), one rejected at memory, one never measured."""
    return {
        "version": 1,
        "run_id": 7,
        "repo": "/src/shop",
        "base_commit": "0123456789abcdef0123456789abcdef01234567",
        "branch": "evolver/lean",
        "provider": "rules",
        "targets": [
            {"target": "shop/cart.py::total", "share": 0.4, "memory": profile(3_355_443)},
            {"target": "shop/tax.py::rate", "share": 0.2, "memory": profile(2048)},
        ],
        "candidates": [
            candidate(
                "shop/cart.py::total",
                "generator",
                committed=True,
                strategy="builtins",
                evidence={"tests": "all pass", "memory": EVIDENCE},
                memory=figures(3_355_443, 1_048_576, 3.2, [3.1, 3.3]),
            ),
            candidate(
                "shop/tax.py::rate",
                "slots",
                committed=True,
                memory=figures(2_097_152, 1_572_864, 1.3333, [1.25, 1.4]),
            ),
            candidate(
                "shop/cart.py::total",
                "copy",
                stage="memory",
                reason="uses more memory: peak 3.2 MiB → 6.4 MiB",
                speedup=None,
                ci=None,
                memory=figures(3_355_443, 6_710_886, 0.5, [0.48, 0.52]),
            ),
            candidate("shop/cart.py::total", "broken", stage="tests", speedup=None, ci=None),
        ],
        "objective": objective,
    }


def profile(peak: int) -> dict[str, int]:
    return {"calls": 10, "peak": peak, "allocated": peak * 10, "alive": 0}


# ---------------------------------------------------------------------------------------------
# The pull request


def test_the_pull_request_shows_each_changes_memory() -> None:
    report = memory_report()
    assert Report.from_json(report).measures_memory
    assert pr_title(report) == "Evolver: 2 verified changes (up to 3.2× less memory)"
    body = pr_body(report)
    assert "propose leaner versions of its hottest functions" in body
    assert "less peak memory on the recorded calls" in body and "99% bootstrap interval" in body
    assert (
        "| target | change | strategy | speedup | 99.5% interval | first call | peak memory "
        "| less memory | 99% interval | profile share | risk |"
    ) in body
    assert "|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|" in body
    assert (
        "| `shop/cart.py::total` | generator | builtins | 1.02× | 0.99–1.05× | 1.00× "
        "| 3.2 MiB → 1.0 MiB | 3.20× | 3.10–3.30× | 40.0% | – |"
    ) in body
    assert "| 2.0 MiB → 1.5 MiB | 1.33× | 1.25–1.40× | 20.0% |" in body
    first, second = body.split("### How each change was verified", 1)[1].split("#### ")[1:3]
    # The evidence sentence where there is one, after the other checks; else the figures.
    assert f"- **Memory:** {EVIDENCE[0].upper()}{EVIDENCE[1:]}.\n" in first
    assert first.index("- **Tests:**") < first.index("- **Memory:**")
    assert (
        "- **Memory:** Peak 2.0 MiB → 1.5 MiB per pass over the recorded calls, 1.33× less "
        "(99% interval 1.25–1.40×)."
    ) in second
    # The rejected: at memory, with its reason.
    assert "| `shop/cart.py::total` | copy | – | memory | uses more memory: peak" in body


def test_the_pull_request_of_other_memory_runs() -> None:
    both = memory_report("both")
    body = pr_body(both)
    assert "propose faster or leaner versions" in body
    assert "either less peak memory" in body and "or a speedup proven by a 99.5%" in body
    one = {**both, "candidates": both["candidates"][1:2]}
    assert pr_title(one) == "Evolver: 1 verified change in rate (1.3× less memory)"
    faster = {**one, "candidates": [{**one["candidates"][0], "memory": None, "speedup": 2.0}]}
    assert pr_title(faster) == "Evolver: 1 verified change in rate (2.0× faster)"
    assert "| peak memory |" not in pr_body(faster)  # no change was measured: no columns
    nothing = {**both, "candidates": both["candidates"][2:]}
    assert pr_title(nothing) == "Evolver: no verified change"


def test_a_time_only_pull_request_has_no_memory_column() -> None:
    report = memory_report()
    del report["objective"]
    for c in report["candidates"]:
        c.pop("memory", None)
        c.get("evidence", {}).pop("memory", None)
    assert pr_title(report) == "Evolver: 2 verified speedups (up to 1.0×)"
    body = pr_body(report)
    for part in ("peak memory", "less memory", "**Memory:**", "leaner versions"):
        assert part not in body
    assert "| first call | profile share | risk |" in body


# ---------------------------------------------------------------------------------------------
# `evolver history RUN` and `evolver show`

TARGET = Target(
    TargetRef("pkg/core.py", "count_known"), "def count_known(): ...", 1, Metrics(3, 10.0, 80.0, 6)
)
LEANER = MemoryUse(3_355_443, 1_048_576, 3.2, (3.1, 3.3), 5, (4096, 0), (60_000_000, 52_000_000))


def outcomes(memory: bool) -> list[Outcome]:
    """A committed change (leaner, when ``memory``) and a rejected one never measured."""
    ref = TARGET.ref
    evidence = {"tests": "all pass", "memory": EVIDENCE} if memory else {"tests": "all pass"}
    return [
        Outcome(
            Candidate("a1a1a1", ref, "rules", {}, "generator", strategy="builtins"),
            Verdict(
                True,
                "speed",
                "same outcomes",
                Timing(1.02, (0.99, 1.05), 8, 1.0, 0.995),
                evidence=evidence,
                memory=LEANER if memory else None,
            ),
            committed=True,
            commit="c" * 40,
        ),
        Outcome(Candidate("b2b2b2", ref, "rules", {}, "broken"), Verdict(False, "tests", "fails")),
    ]


def record(history: store.Store, repo: Path, objective: str) -> int:
    """A finished run in the history, as `evolver run` leaves it."""
    memory = objective != "time"
    run = RunReport(
        str(repo), "0" * 40, None, "rules", outcomes=outcomes(memory), objective=objective
    )
    run_id = history.begin(run, "evolver/lean", {})
    history.target_done(run_id, TARGET, run.outcomes, "0" * 40)
    history.end(run_id, run)
    return run_id


def test_history_and_show_give_the_memory_ratio(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(KEYS_PROJECT)
    with store.Store(repo) as history:
        measured = record(history, repo, "both")
        timed = record(history, repo, "time")
    capsys.readouterr()

    cli_history.history(run=measured, repo=repo, as_json=False)
    listed = capsys.readouterr().out
    [header] = [line for line in listed.splitlines() if "decision" in line]
    assert "less memory" in header
    assert header.index("speedup") < header.index("less memory") < header.index("risk")
    [leaner] = [line for line in listed.splitlines() if "generator" in line]
    assert re.search(r"│\s+1\.02× │\s+3\.20× │", leaner)  # after the speedup
    [unmeasured] = [line for line in listed.splitlines() if "broken" in line]
    assert re.search(r"│\s+– │\s+– │", unmeasured)  # neither timed nor measured
    cli_history.history(run=measured, repo=repo, as_json=True)
    rows = json.loads(capsys.readouterr().out)["candidates"]
    assert rows[0]["memory"]["ratio"] == 3.2 and "memory" not in rows[1]

    cli_history.history(run=timed, repo=repo, as_json=False)
    assert "memory" not in capsys.readouterr().out
    cli_history.history(run=timed, repo=repo, as_json=True)
    assert all("memory" not in row for row in json.loads(capsys.readouterr().out)["candidates"])

    [first] = [r["id"] for r in rows if r["summary"] == "generator"]
    cli_history.show(str(first), repo=repo, as_json=False)
    shown = capsys.readouterr().out
    assert (
        "\nmemory: peak 3.2 MiB → 1.0 MiB, 3.20× less (99% interval 3.10–3.30×, 5 processes a "
        "side)\n"
    ) in shown
    assert f"✓ memory: {EVIDENCE}" in shown  # the evidence, as recorded
    cli_history.show(str(first), repo=repo, as_json=True)
    assert json.loads(capsys.readouterr().out)["memory"]["original"] == 3_355_443
    cli_history.show(str(first + 2), repo=repo, as_json=False)  # the same change, timed only
    assert "\nmemory:" not in capsys.readouterr().out

    # `evolver report`: the page of the run, its memory chart included.
    page = repo / "run.html"
    cli_history.report(run=measured, repo=repo, out=page)
    html = page.read_text(encoding="utf-8")
    assert 'id="memory-chart-title"' in html and "3.20× less" in html

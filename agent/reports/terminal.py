"""Results as tables for people and as JSON (format version 1) for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.domain import (
    Confirmation,
    FunctionProfile,
    Outcome,
    Risk,
    RunReport,
    Target,
    TargetRef,
    confidence_text,
)

JSON_VERSION = 1
PIPED_WIDTH = 4096  # columns of results that go to a pipe or a file: nothing is cut or wrapped


def results_console() -> Console:
    """Where results go (stdout): as wide as the terminal on one; elsewhere (a pipe, a file,
    a CI log) complete lines, so that tables are never cut to 80 columns nor wrapped."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPED_WIDTH, soft_wrap=True)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``"1 target"``, ``"2 targets"``: the noun in the plural only when it is."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def target_json(target: Target) -> dict[str, Any]:
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


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    verdict, timing = outcome.verdict, outcome.verdict.timing
    return {
        "id": outcome.candidate.id,
        "target": str(outcome.candidate.target),
        "provider": outcome.candidate.provider,
        "summary": outcome.candidate.summary,
        # The optimization strategy it follows ("caching"; rules joined: "builtins+caching"),
        # null when unknown. Added to format 1 later: readers must not require it.
        "strategy": outcome.candidate.strategy,
        "verdict": "accepted" if verdict.accepted else "rejected",
        "stage": verdict.stage,
        "reason": verdict.reason,
        "speedup": round(timing.speedup, 4) if timing else None,
        "ci": [round(timing.ci[0], 4), round(timing.ci[1], 4)] if timing else None,
        "confidence": timing.confidence if timing else None,  # the interval's level
        "first_call_speedup": round(timing.first_call, 4) if timing else None,
        "timing_method": timing.method if timing else None,  # "per call" or "end to end"
        "not_compared": list(verdict.not_compared),  # stages that had nothing to compare
        "committed": outcome.committed,
        "commit": outcome.commit,
        "provenance": {k: v for k, v in outcome.candidate.provenance.items() if k != "reply"},
        "evidence": dict(verdict.evidence) or None,
        "probes": [
            {"call": found.call, "difference": found.difference}
            for found in verdict.probe_differences
        ],
        "risk": risk_json(outcome.risk),
        "patch": outcome.patch,
    }


def interval_level(candidates: list[dict[str, Any]]) -> str:
    """The level of the intervals of a JSON report's ``candidates`` (``"99.5%"``): the
    lowest, if they differ (each is at least that); reports from before it was recorded had
    95%."""
    levels = [
        float(c["confidence"])
        for c in candidates
        if isinstance(c.get("confidence"), (int, float)) and 0 < c["confidence"] < 1
    ]
    return confidence_text(min(levels, default=0.95))


def risk_json(risk: Risk | None) -> dict[str, Any] | None:
    return None if risk is None else {"level": risk.level, "reasons": list(risk.reasons)}


def hotspot_json(ref: TargetRef, profile: FunctionProfile) -> dict[str, Any]:
    return {
        "target": str(ref),
        "share": round(profile.share, 6),
        "own_time": round(profile.own_time, 6),
        "cum_time": round(profile.cum_time, 6),
        "calls": profile.calls,
    }


def confirmation_json(confirmation: Confirmation | None) -> dict[str, Any] | None:
    if confirmation is None:
        return None
    return {
        "what": confirmation.what,
        "method": confirmation.method,
        "runs": confirmation.runs,
        "base_seconds": round(confirmation.base_seconds, 4),
        "result_seconds": round(confirmation.result_seconds, 4),
        "wall_speedup": round(confirmation.wall_speedup, 4),
        "speedup": round(confirmation.speedup, 4),
        "benchmarks": {name: round(r, 4) for name, r in confirmation.benchmarks.items()},
    }


def report_json(report: RunReport) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "run_id": report.run_id,
        "repo": report.repo,
        "base_commit": report.base_commit,
        "branch": report.branch,
        "provider": report.provider,
        "model": report.model,
        "started": report.started,
        "finished": report.finished,
        "hotspots": [hotspot_json(ref, p) for ref, p in report.hotspots.items()],
        "targets": [target_json(t) for t in report.targets],
        "candidates": [outcome_json(o) for o in report.outcomes],
        "accepted": report.accepted,
        "committed": report.committed,
        "notes": report.notes,
        "usage": report.usage,
        "flaky_tests": report.flaky_tests,
        "confirmation": confirmation_json(report.confirmation),
        "sandbox": report.sandbox,
    }


def write_json(report: RunReport, path: Path) -> None:
    path.write_text(json.dumps(report_json(report), indent=2) + "\n", encoding="utf-8")


def profile_table(targets: list[Target], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("#", "target", "share", "own s", "cum s", "calls", "CC", "effort", "MI"):
        table.add_column(column, justify="left" if column == "target" else "right", overflow="fold")
    for number, target in enumerate(targets, 1):
        p, m = target.profile, target.metrics
        table.add_row(
            str(number),
            str(target.ref),
            f"{p.share:.1%}" if p else "–",
            f"{p.own_time:.3f}" if p else "–",
            f"{p.cum_time:.3f}" if p else "–",
            str(p.calls) if p else "–",
            str(m.complexity),
            f"{m.halstead_effort:.0f}",
            f"{m.maintainability:.0f}",
        )
    return table


def results_table(report: RunReport) -> Table:
    table = Table(title="Candidates", title_justify="left")
    levels = {o.verdict.timing.level for o in report.outcomes if o.verdict.timing}
    interval = f"{levels.pop()} CI" if len(levels) == 1 else "CI"
    columns = ("target", "candidate", "strategy", "verdict", "speedup", interval, "1st call")
    for column in (*columns, "detail"):
        numeric = column in ("speedup", interval, "1st call")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for o in report.outcomes:
        timing = o.verdict.timing
        if o.committed:
            verdict, detail = "[green]committed[/]", f"commit {(o.commit or '')[:10]}"
        elif o.verdict.accepted:
            verdict, detail = "[yellow]accepted[/]", "a better candidate won"
        else:
            # Reasons quote what candidate code did (an exception's message): never markup.
            verdict, detail = "[red]rejected[/]", escape(f"{o.verdict.stage}: {o.verdict.reason}")
        table.add_row(
            str(o.candidate.target),
            escape(o.candidate.summary),
            escape(o.candidate.strategy or "–"),
            verdict,
            f"{timing.speedup:.2f}×" if timing else "–",
            f"{timing.ci[0]:.2f}–{timing.ci[1]:.2f}" if timing else "–",
            f"{timing.first_call:.2f}×" if timing else "–",
            detail,
        )
    confirmed = report.confirmation
    if confirmed is not None:
        table.add_section()
        wall = f"{confirmed.base_seconds:.2f}s → {confirmed.result_seconds:.2f}s"
        count = len(confirmed.benchmarks)
        medians = f"geometric mean of {count} benchmarks' medians" if count != 1 else "its median"
        how = (
            f"{medians}; wall {wall}"
            if confirmed.method == "benchmarks"
            else f"median wall time {wall}"
        )
        table.add_row(
            "[bold]whole result[/]",
            confirmed.what,
            "–",
            _change(confirmed.speedup),
            f"{confirmed.speedup:.2f}×",
            "–",
            "–",
            f"base against result, {confirmed.runs} runs each alternating: {how}",
        )
    return table


def _change(speedup: float) -> str:
    """A few runs a side are not a proof: within 2% is called no change."""
    if speedup > 1.02:
        return "[green]faster[/]"
    return "[red]slower[/]" if speedup < 0.98 else "[yellow]about the same[/]"


def print_summary(console: Console, report: RunReport) -> None:
    if report.outcomes:
        console.print(results_table(report))
    for note in report.notes:
        console.print(f"[dim]note:[/] {escape(note)}")
    if report.branch:
        console.print(
            f"[bold green]{report.committed} change(s) committed[/] on branch "
            f"[bold]{report.branch}[/] (from {report.base_commit[:10]}); "
            "your checkout is unchanged."
        )
    else:
        console.print("[bold]No change was committed[/]: nothing was proven faster and correct.")

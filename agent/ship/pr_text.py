"""A run's pull request in words: its title, and a Markdown body a reviewer can act on.

The body holds the per-target table (optimization strategy, speedup, interval, first calls,
peak memory when the run measured it, share of the profile, risk), how each change was
verified, the risk with its reasons, the whole-result confirmation, the rejected candidates
folded away and the notes, and ends with the hidden marker by which Evolver knows its own pull
request. Everything comes from the run's report (``agent.reports.model``; its JSON is read
first); older reports without evidence or risk still render. A run with memory in its objective
(``--objective memory`` or ``both``) is titled and summed up by what it made better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.domain import RISK_LEVELS, confidence_text
from agent.reports import format as fmt
from agent.reports.model import (
    Report,
    ReportCandidate,
    ReportConfirmation,
    ReportMemory,
    as_report,
    interval_level,
)
from agent.ship.github import marker

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_REASON = 300  # characters of a rejection's reason in the collapsed table
MEMORY_CONFIDENCE = 0.99  # the memory intervals' level where the report shows none

_EVIDENCE = {  # check → heading, in the order a reviewer reads them
    "tests": "Tests",
    "capabilities": "What it can reach",
    "differential": "Differential check on recorded calls",
    "property": "Property check on generated inputs",
    "probes": "Probes (inputs no real call or test used)",
    "workload": "What the workload shows (run whole, original and change alternately)",
    "timing": "Timing",
    "memory": "Memory",
}


def pr_title(report: Report | Mapping[str, Any]) -> str:
    """``Evolver: 3 verified speedups (up to 12.0×)``; with memory in the run's objective,
    ``Evolver: 2 verified changes (up to 3.2× less memory)``."""
    report = as_report(report)
    committed = report.committed_candidates
    if report.measures_memory:
        return _memory_title(committed)
    speedups = [c.speedup for c in committed if c.speedup is not None]
    if not committed:
        return "Evolver: no verified speedup"
    if len(committed) == 1:
        shown = f" ({fmt.times(speedups[0], 1)})" if speedups else ""
        target = committed[0].target.rpartition("::")[2]
        where = f" in {target}" if target else ""
        return f"Evolver: 1 verified speedup{where}{shown}"
    best = f" (up to {fmt.times(max(speedups), 1)})" if speedups else ""
    return f"Evolver: {len(committed)} verified speedups{best}"


def _memory_title(committed: Sequence[ReportCandidate]) -> str:
    if not committed:
        return "Evolver: no verified change"
    leaner = [m.ratio for c in committed if (m := c.memory) and fmt.finite(m.ratio) and m.ratio > 1]
    faster = [s for c in committed if (s := c.speedup) is not None and fmt.finite(s) and s > 1]
    best = (
        f"{fmt.times(max(leaner), 1)} less memory"
        if leaner
        else f"{fmt.times(max(faster), 1)} faster"
        if faster
        else ""
    )
    if len(committed) == 1:
        target = committed[0].target.rpartition("::")[2]
        where = f" in {target}" if target else ""
        return f"Evolver: 1 verified change{where}" + (f" ({best})" if best else "")
    return f"Evolver: {len(committed)} verified changes" + (f" (up to {best})" if best else "")


def pr_body(report: Report | Mapping[str, Any], *, head_branch: str | None = None) -> str:
    """The pull request's Markdown: summary, table, evidence, risk, rejections, notes.

    ``head_branch`` goes into the hidden marker that tells Evolver's pull request from others.
    """
    report = as_report(report)
    head = head_branch or report.branch or ""
    committed = report.committed_candidates
    parts = [
        marker(head),
        _summary(report, committed),
        _table(report, committed),
        _verification(committed),
        _risk_section(committed),
        _definitions(committed),
        _notes(report),
    ]
    footer = (
        "<sub>Opened by Evolver. Every commit changes one target (with its class or helpers "
        "where it says so, each definition shown on its own); review them one by one. "
        f"A new run force-pushes `{head}` and updates this description.</sub>"
    )
    body = _join([*parts, _others(report), footer])
    if len(body) > MAX_BODY:  # the collapsed list of rejections is what can grow without end
        cut = "_The other candidates are left out: the description would be too long._"
        body = _join([*parts, cut, footer])
    return body[:MAX_BODY]


def _summary(report: Report, committed: Sequence[ReportCandidate]) -> str:
    provider = report.provider or "unknown"
    by = f"`{provider}`" + (f" with the model `{report.model}`" if report.model else "")
    base = fmt.short_sha(report.base_commit) or "an unknown commit"
    count = len(committed)
    changes = fmt.plural(count, "change")
    judged_whole = sum(c.end_to_end for c in committed)
    level = interval_level(committed)
    if judged_whole and judged_whole == count:
        checks = (
            "their calls could not be recorded, so the behaviour was not compared per call "
            "but on what the workload and the tests show (the workload's output and exit code "
            "the same as the original's, the tests passing), and a speedup of the whole "
            f"workload, timed end to end, proven by a {level} bootstrap interval"
        )
        passed = "passed every check that could be made"
    elif judged_whole:
        # Never claim a comparison that was not made: say which changes were judged whole.
        these = "1 of them" if judged_whole == 1 else f"{judged_whole} of them"
        checks = (
            "the same behaviour as the original on recorded and generated calls (for "
            f"{these}, whose calls could not be recorded, not compared per call: only the "
            "workload's output and exit code, and the tests), the tests passing, and a speedup "
            f"proven by a {level} bootstrap interval (for {these}, of the "
            "whole workload, timed end to end)"
        )
        passed = "passed every check that could be made"
    else:
        checks = (
            "the same behaviour as the original on recorded and generated calls, the tests "
            f"passing, and a speedup proven by a {level} bootstrap interval"
        )
        passed = "passed every check"
    better = "faster"
    if report.measures_memory:  # judged on recorded calls only: never end to end
        better, checks = _memory_checks(report.objective, committed)
    text = (
        f"Evolver profiled this repository at `{base}`, had {by} propose {better} versions of "
        f"its hottest functions and verified each in a sandbox: {checks}. {changes} {passed}, "
        "one commit per function."
    )
    if report.run_id:
        text += f" Run `{report.run_id}`."
    whole = _confirmation(report.confirmation)
    return text + ("\n\n" + whole if whole else "")


def _memory_checks(objective: str | None, committed: Sequence[ReportCandidate]) -> tuple[str, str]:
    """What the changes were to be, and the checks, of a run with memory in its objective."""
    memory = (
        f"less peak memory on the recorded calls (measured in alternating fresh processes) "
        f"proven by a {_memory_level(committed)} bootstrap interval"
    )
    same = "the same behaviour as the original on recorded and generated calls, the tests passing"
    if objective == "both":
        return "faster or leaner", (
            f"{same}, and either {memory} or a speedup proven by a {interval_level(committed)} "
            "bootstrap interval, without being worse at the other than allowed"
        )
    return "leaner", f"{same}, and {memory}, without being slower than allowed"


def _confirmation(confirmation: ReportConfirmation | None) -> str:
    if confirmation is None or not confirmation.speedup or not fmt.finite(confirmation.speedup):
        return ""
    speedup = confirmation.speedup
    verdict = {
        "faster": f"{fmt.times(speedup)} faster than the base",
        "slower": f"{fmt.times(1 / speedup)} slower than the base",
        "about the same": f"about as fast as the base ({fmt.times(speedup)})",
        "too noisy to tell": (
            f"not clearly faster or slower than the base ({fmt.times(speedup)}; the runs overlap)"
        ),
    }.get(confirmation.verdict, f"{fmt.times(speedup)} against the base")
    how = (
        f"geometric mean of {len(confirmation.benchmarks)} benchmarks' medians"
        if confirmation.method == "benchmarks"
        else "median wall time"
    )
    text = (
        f"**Whole result:** {verdict} on the repository's own workload "
        f"({_code(confirmation.what or 'the workload')}; {how}"
    )
    if confirmation.runs:
        text += f", {confirmation.runs} runs a side, alternating"
    wall = fmt.wall(confirmation.base_seconds, confirmation.result_seconds, missing="")
    return text + (f"; {wall}" if wall else "") + ")."


def _table(report: Report, committed: Sequence[ReportCandidate]) -> str:
    shares = {t.target: t.share for t in report.targets}
    memory = any(c.memory for c in committed)  # columns only where a change was measured
    rows = [
        f"| target | change | strategy | speedup | {interval_level(committed)} interval "
        "| first call | "
        + (f"peak memory | less memory | {_memory_level(committed)} interval | " if memory else "")
        + "profile share | risk |",
        "|---|---|---|--:|--:|--:|" + ("--:|--:|--:|" if memory else "") + "--:|---|",
    ]
    for c in committed:
        risk = _risk(c)
        whole = c.end_to_end
        cells = [
            _code(c.target),
            _cell(c.summary),
            _cell(_strategy(c)),
            fmt.times(c.speedup) + (" end to end" if whole else ""),
            fmt.interval(c.ci),
            fmt.MISSING if whole else fmt.times(c.first_call_speedup),
            *(_memory_cells(c) if memory else ()),
            fmt.percent(shares.get(c.target)),
            risk[0] if risk else fmt.MISSING,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _verification(committed: Sequence[ReportCandidate]) -> str:
    sections = ["### How each change was verified"]
    for c in committed:
        commit = fmt.short_sha(c.commit)
        heading = f"#### {_code(c.target)}: {_text(c.summary)}"
        lines = [heading + (f" ({commit})" if commit else "")]
        lines.append(f"- **Strategy:** {_text(_strategy(c, unknown='not recorded'))}")
        if c.evidence:
            known = [k for k in _EVIDENCE if k in c.evidence]
            for key in known + sorted(k for k in c.evidence if k not in _EVIDENCE):
                label = _EVIDENCE.get(key, key.replace("_", " ").capitalize())
                lines.append(f"- **{label}:** {_text(_sentence(c.evidence[key]))}")
        else:
            lines.append(f"- **Checks passed:** {_text(_sentence(c.reason))}")
            if c.speedup:
                lines.append(
                    f"- **Timing:** {fmt.times(c.speedup)} faster "
                    f"({interval_level([c])} interval {fmt.interval(c.ci)}, "
                    f"first calls {fmt.times(c.first_call_speedup)})."
                )
        if c.memory and "memory" not in (c.evidence or {}):  # its figures, without a sentence
            lines.append(f"- **{_EVIDENCE['memory']}:** {_sentence(_memory_figures(c.memory))}")
        risk = _risk(c)
        if risk:
            level, reasons = risk
            why = f": {_text('; '.join(reasons))}" if reasons else ""
            lines.append(f"- **Risk:** {level}{why}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def _risk_section(committed: Sequence[ReportCandidate]) -> str:
    risks = [(c, r) for c in committed if (r := _risk(c))]
    if not risks:
        return ""
    level = max((r[0] for _, r in risks), key=RISK_LEVELS.index)
    lines = [f"### Risk: {level}"]
    if level == "low":
        lines.append("Every change is small and of a well-understood kind.")
    else:
        lines.append("Review these first:")
        for c, (lvl, reasons) in risks:
            if lvl == level:
                why = "; ".join(reasons) or "no reason given"
                lines.append(f"- {_code(c.target)}: {_text(why)}")
    return "\n".join(lines)


def _definitions(committed: Sequence[ReportCandidate]) -> str:
    """For each change that reaches beyond its target, every definition it changes, each with
    its own diff (collapsed)."""
    blocks = []
    for candidate in committed:
        if not candidate.changes:
            continue
        lines = [f"{_code(candidate.target)} changes {len(candidate.changes)} definitions:"]
        for name, diff in candidate.changes.items():
            fence = fmt.fence(diff)
            lines.append(
                f"<details>\n<summary><code>{_text(name)}</code></summary>\n\n"
                f"{fence}diff\n{diff}{fence}\n\n</details>"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(["### Beyond one function", *blocks]) if blocks else ""


def _others(report: Report) -> str:
    others = [c for c in report.candidates if not c.committed]
    if not others:
        return ""
    rejected = sum(1 for c in others if not c.accepted)
    passed = len(others) - rejected
    label = fmt.plural(rejected, "rejected candidate")
    if passed:
        label += f", {passed} verified but beaten by a faster one"
    rows = ["| target | candidate | strategy | stage | why not |", "|---|---|---|---|---|"]
    for c in others:
        if c.accepted:
            why = f"verified ({fmt.times(c.speedup)}), but another candidate was faster"
        else:
            why = c.reason if len(c.reason) <= MAX_REASON else c.reason[: MAX_REASON - 1] + "…"
        cells = [_code(c.target), _cell(c.summary), _cell(_strategy(c)), _cell(c.stage), _cell(why)]
        rows.append("| " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    return f"<details>\n<summary>{label}</summary>\n\n{table}\n\n</details>"


def _notes(report: Report) -> str:
    notes = [n for n in report.notes if n]
    flaky = report.flaky_tests
    if flaky:
        notes.append(
            "flaky tests, deselected when judging: " + ", ".join(_code(t) for t in flaky[:20])
        )
    if not notes:
        return ""
    return "### Notes\n" + "\n".join(f"- {_text(n)}" for n in notes)


# --- helpers -------------------------------------------------------------------------------


def _strategy(candidate: ReportCandidate, unknown: str = fmt.MISSING) -> str:
    """The optimization strategy it followed, as a reader writes it: ``"caching"``, or for a
    change several rules made ``"builtins + data-structure"``; reports from before it was
    recorded have none."""
    return " + ".join(candidate.strategies) or unknown


def _memory_level(candidates: Sequence[ReportCandidate]) -> str:
    """The level of the memory intervals (``"99%"``): the lowest, if they differ."""
    levels = [c.memory.confidence for c in candidates if c.memory and 0 < c.memory.confidence < 1]
    return confidence_text(min(levels, default=MEMORY_CONFIDENCE))


def _memory_cells(candidate: ReportCandidate) -> tuple[str, str, str]:
    """Peak before → after, the ratio (original / change) and its interval."""
    memory = candidate.memory
    if memory is None:
        return fmt.MISSING, fmt.MISSING, fmt.MISSING
    peak = f"{fmt.size(memory.original)} → {fmt.size(memory.candidate)}"
    return peak, fmt.times(memory.ratio), fmt.interval(memory.ci)


def _memory_figures(memory: ReportMemory) -> str:
    """``peak 3.2 MiB → 1.0 MiB per pass over the recorded calls, 3.20× less (99% interval
    3.10–3.30×)``."""
    level = confidence_text(memory.confidence) if 0 < memory.confidence < 1 else "its"
    return (
        f"peak {fmt.size(memory.original)} → {fmt.size(memory.candidate)} per pass over the "
        f"recorded calls, {fmt.less_or_more(memory.ratio)} ({level} interval "
        f"{fmt.interval(memory.ci)})"
    )


def _risk(candidate: ReportCandidate) -> tuple[str, tuple[str, ...]] | None:
    """Its risk, when the report has one of the levels this Evolver knows."""
    risk = candidate.risk
    return (risk.level, risk.reasons) if risk and risk.level in RISK_LEVELS else None


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "–"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _text(text: str) -> str:
    """Plain text for Markdown: ``<locals>`` and the like stay visible instead of being read as
    HTML tags, and nothing runs over onto a new line."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def _cell(text: str) -> str:
    """A table cell: a ``|`` would end it, a newline the row."""
    return _text(text).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code in a table cell or a line; GFM honours ``\\|`` even inside code spans."""
    text = " ".join(text.split()).replace("|", "\\|")
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}" if text else "–"


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p) + "\n"

"""A run's pull request in words: its title, and a Markdown body a reviewer can act on.

The body holds the per-target table (optimization strategy, speedup, interval, first calls,
share of the profile, risk), how each change was verified, the risk with its reasons, the
whole-result confirmation, the rejected candidates folded away and the notes, and ends with the
hidden marker by which Evolver knows its own pull request. Everything comes from the run's JSON
report; older reports without evidence or risk still render.
"""

from __future__ import annotations

from typing import Any

from agent.domain import RISK_LEVELS
from agent.reports.terminal import interval_level
from agent.ship.github import marker

MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_REASON = 300  # characters of a rejection's reason in the collapsed table

_EVIDENCE = {  # check → heading, in the order a reviewer reads them
    "tests": "Tests",
    "capabilities": "What it can reach",
    "differential": "Differential check on recorded calls",
    "property": "Property check on generated inputs",
    "probes": "Probes (inputs no real call or test used)",
    "workload": "What the workload shows (run whole, original and change alternately)",
    "timing": "Timing",
}


def pr_title(report: dict[str, Any]) -> str:
    """``Evolver: 3 verified speedups (up to 12.0×)``."""
    committed = committed_candidates(report)
    speedups = [float(c["speedup"]) for c in committed if _number(c.get("speedup"))]
    if not committed:
        return "Evolver: no verified speedup"
    if len(committed) == 1:
        shown = f" ({speedups[0]:.1f}×)" if speedups else ""
        target = str(committed[0].get("target") or "").rpartition("::")[2]
        where = f" in {target}" if target else ""
        return f"Evolver: 1 verified speedup{where}{shown}"
    best = f" (up to {max(speedups):.1f}×)" if speedups else ""
    return f"Evolver: {len(committed)} verified speedups{best}"


def pr_body(report: dict[str, Any], *, head_branch: str | None = None) -> str:
    """The pull request's Markdown: summary, table, evidence, risk, rejections, notes.

    ``head_branch`` goes into the hidden marker that tells Evolver's pull request from others.
    """
    head = head_branch or str(report.get("branch") or "")
    committed = committed_candidates(report)
    parts = [
        marker(head),
        _summary(report, committed),
        _table(report, committed),
        _verification(committed),
        _risk_section(committed),
        _notes(report),
    ]
    footer = (
        "<sub>Opened by Evolver. Every commit changes one function; review them one by one. "
        f"A new run force-pushes `{head}` and updates this description.</sub>"
    )
    body = _join([*parts, _others(report), footer])
    if len(body) > MAX_BODY:  # the collapsed list of rejections is what can grow without end
        cut = "_The other candidates are left out: the description would be too long._"
        body = _join([*parts, cut, footer])
    return body[:MAX_BODY]


def _summary(report: dict[str, Any], committed: list[dict[str, Any]]) -> str:
    provider = str(report.get("provider") or "unknown")
    model = report.get("model")
    by = f"`{provider}`" + (f" with the model `{model}`" if model else "")
    base = str(report.get("base_commit") or "")[:10] or "an unknown commit"
    count = len(committed)
    changes = f"{count} change" + ("" if count == 1 else "s")
    judged_whole = sum(_end_to_end(c) for c in committed)
    if judged_whole and judged_whole == count:
        checks = (
            "their calls could not be recorded, so the behaviour was not compared per call "
            "but on what the workload and the tests show (the workload's output and exit code "
            "the same as the original's, the tests passing), and a speedup of the whole "
            f"workload, timed end to end, proven by a {interval_level(committed)} bootstrap "
            "interval"
        )
        passed = "passed every check that could be made"
    elif judged_whole:
        # Never claim a comparison that was not made: say which changes were judged whole.
        these = "1 of them" if judged_whole == 1 else f"{judged_whole} of them"
        checks = (
            "the same behaviour as the original on recorded and generated calls (for "
            f"{these}, whose calls could not be recorded, not compared per call: only the "
            "workload's output and exit code, and the tests), the tests passing, and a speedup "
            f"proven by a {interval_level(committed)} bootstrap interval (for {these}, of the "
            "whole workload, timed end to end)"
        )
        passed = "passed every check that could be made"
    else:
        checks = (
            "the same behaviour as the original on recorded and generated calls, the tests "
            f"passing, and a speedup proven by a {interval_level(committed)} bootstrap interval"
        )
        passed = "passed every check"
    text = (
        f"Evolver profiled this repository at `{base}`, had {by} propose faster versions of its "
        f"hottest functions and verified each in a sandbox: {checks}. {changes} {passed}, "
        "one commit per function."
    )
    run_id = report.get("run_id")
    if run_id:
        text += f" Run `{run_id}`."
    whole = _confirmation(report.get("confirmation"))
    return text + ("\n\n" + whole if whole else "")


def _confirmation(confirmation: Any) -> str:
    if not isinstance(confirmation, dict) or not _number(confirmation.get("speedup")):
        return ""
    speedup = float(confirmation["speedup"])
    if speedup > 1.02:
        verdict = f"{speedup:.2f}× faster"
    elif speedup < 0.98:
        verdict = f"{1 / speedup:.2f}× slower"
    else:
        verdict = f"about as fast ({speedup:.2f}×)"
    benchmarks = confirmation.get("benchmarks") or {}
    how = (
        f"geometric mean of {len(benchmarks)} benchmarks' medians"
        if confirmation.get("method") == "benchmarks"
        else "median wall time"
    )
    text = (
        f"**Whole result:** {verdict} than the base on the repository's own workload "
        f"({_code(str(confirmation.get('what') or 'the workload'))}; {how}"
    )
    runs = confirmation.get("runs")
    if runs:
        text += f", {runs} runs a side, alternating"
    base, result = (
        _float(confirmation.get("base_seconds")),
        _float(confirmation.get("result_seconds")),
    )
    if base is not None and result is not None:
        text += f"; {base:.2f} s → {result:.2f} s"
    return text + ")."


def _table(report: dict[str, Any], committed: list[dict[str, Any]]) -> str:
    shares = {
        str(t.get("target")): t.get("share")
        for t in report.get("targets") or []
        if isinstance(t, dict)
    }
    rows = [
        f"| target | change | strategy | speedup | {interval_level(committed)} interval "
        "| first call | profile share | risk |",
        "|---|---|---|--:|--:|--:|--:|---|",
    ]
    for c in committed:
        target = str(c.get("target") or "")
        share = _float(shares.get(target))
        risk = _risk(c)
        whole = _end_to_end(c)
        cells = [
            _code(target),
            _cell(str(c.get("summary") or "")),
            _cell(_strategy(c)),
            _times(c.get("speedup")) + (" end to end" if whole else ""),
            _interval(c.get("ci")),
            "–" if whole else _times(c.get("first_call_speedup")),
            f"{share:.1%}" if share is not None else "–",
            risk[0] if risk else "–",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _verification(committed: list[dict[str, Any]]) -> str:
    sections = ["### How each change was verified"]
    for c in committed:
        commit = str(c.get("commit") or "")[:10]
        heading = f"#### {_code(str(c.get('target') or ''))}: {_text(str(c.get('summary') or ''))}"
        lines = [heading + (f" ({commit})" if commit else "")]
        lines.append(f"- **Strategy:** {_text(_strategy(c, unknown='not recorded'))}")
        evidence = c.get("evidence")
        if isinstance(evidence, dict) and evidence:
            known = [k for k in _EVIDENCE if k in evidence]
            for key in known + sorted(k for k in evidence if k not in _EVIDENCE):
                label = _EVIDENCE.get(key, str(key).replace("_", " ").capitalize())
                lines.append(f"- **{label}:** {_text(_sentence(str(evidence[key])))}")
        else:
            lines.append(f"- **Checks passed:** {_text(_sentence(str(c.get('reason') or '')))}")
            if _number(c.get("speedup")):
                lines.append(
                    f"- **Timing:** {_times(c.get('speedup'))} faster "
                    f"({interval_level([c])} interval {_interval(c.get('ci'))}, "
                    f"first calls {_times(c.get('first_call_speedup'))})."
                )
        risk = _risk(c)
        if risk:
            level, reasons = risk
            why = f": {_text('; '.join(reasons))}" if reasons else ""
            lines.append(f"- **Risk:** {level}{why}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def _risk_section(committed: list[dict[str, Any]]) -> str:
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
                lines.append(f"- {_code(str(c.get('target') or ''))}: {_text(why)}")
    return "\n".join(lines)


def _others(report: dict[str, Any]) -> str:
    others = [
        c for c in report.get("candidates") or [] if isinstance(c, dict) and not c.get("committed")
    ]
    if not others:
        return ""
    rejected = sum(1 for c in others if c.get("verdict") != "accepted")
    passed = len(others) - rejected
    label = f"{rejected} rejected candidate" + ("" if rejected == 1 else "s")
    if passed:
        label += f", {passed} verified but beaten by a faster one"
    rows = ["| target | candidate | strategy | stage | why not |", "|---|---|---|---|---|"]
    for c in others:
        if c.get("verdict") == "accepted":
            why = f"verified ({_times(c.get('speedup'))}), but another candidate was faster"
        else:
            why = str(c.get("reason") or "")
            why = why if len(why) <= MAX_REASON else why[: MAX_REASON - 1] + "…"
        cells = [
            _code(str(c.get("target") or "")),
            _cell(str(c.get("summary") or "")),
            _cell(_strategy(c)),
            _cell(str(c.get("stage") or "")),
            _cell(why),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    return f"<details>\n<summary>{label}</summary>\n\n{table}\n\n</details>"


def _notes(report: dict[str, Any]) -> str:
    notes = [str(n) for n in report.get("notes") or [] if n]
    flaky = [str(t) for t in report.get("flaky_tests") or []]
    if flaky:
        notes.append(
            "flaky tests, deselected when judging: " + ", ".join(_code(t) for t in flaky[:20])
        )
    if not notes:
        return ""
    return "### Notes\n" + "\n".join(f"- {_text(n)}" for n in notes)


# --- helpers -------------------------------------------------------------------------------


def _end_to_end(candidate: dict[str, Any]) -> bool:
    """Whether it was judged end to end: its speedup is the whole workload's, and its calls
    were not compared one by one."""
    not_compared = candidate.get("not_compared")
    return candidate.get("timing_method") == "end to end" or (
        isinstance(not_compared, list) and "equivalence" in not_compared
    )


def _strategy(candidate: dict[str, Any], unknown: str = "–") -> str:
    """The optimization strategy it followed, as a reader writes it: ``"caching"``, or for a
    change several rules made ``"builtins + data-structure"``; reports from before it was
    recorded have none."""
    label = candidate.get("strategy")
    parts = [p.strip() for p in label.split("+") if p.strip()] if isinstance(label, str) else []
    return " + ".join(parts) or unknown


def committed_candidates(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The candidates the run committed."""
    return [c for c in report.get("candidates") or [] if isinstance(c, dict) and c.get("committed")]


def _risk(candidate: dict[str, Any]) -> tuple[str, list[str]] | None:
    risk = candidate.get("risk")
    if not isinstance(risk, dict) or risk.get("level") not in RISK_LEVELS:
        return None
    reasons = [str(r) for r in risk.get("reasons") or []]
    return str(risk["level"]), reasons


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _float(value: Any) -> float | None:
    return float(value) if _number(value) else None


def _times(value: Any) -> str:
    return f"{float(value):.2f}×" if _number(value) else "–"


def _interval(ci: Any) -> str:
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_number(v) for v in ci):
        return f"{float(ci[0]):.2f}–{float(ci[1]):.2f}×"
    return "–"


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

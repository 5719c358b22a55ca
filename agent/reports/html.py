"""The report of one run as one self-contained HTML page.

The input is the run's report (``agent.reports.model.Report``, or its JSON), so that a report
saved by any earlier run can be rendered again: the fields added to format 1 later (``hotspots``,
``run_id``, ``started``, ``finished``, ``model``, and ``patch``, ``evidence``, ``risk`` and
``strategy`` per candidate) may be absent. The page needs nothing but itself: the charts are
inline SVG, the CSS is embedded, there is no script and no font or image to fetch, so it can be
mailed, archived as a CI artifact or opened offline and still look the same. A run with memory
in its objective also gets its memory figures and a second chart (``memory_view``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from agent.domain import RISK_LEVELS, compared
from agent.reports import format as fmt
from agent.reports import memory_view
from agent.reports.chart import LogScale, is_one, tick_label
from agent.reports.diff import pygments_css, render_diff
from agent.reports.model import (
    END_TO_END,
    Report,
    ReportCandidate,
    ReportConfirmation,
    ReportHotspot,
    ReportTarget,
    as_report,
    interval_level,
)
from agent.reports.page import (
    Bar,
    CandidateRow,
    Chart,
    Fact,
    Hotspot,
    Measure,
    Page,
    TargetSection,
    Tick,
)

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "report.html.j2"
VERDICTS = ("committed", "accepted", "rejected")

# The chart's geometry, in SVG user units (the svg scales to the page's width).
CHART_WIDTH = 960
CHART_ROW = 26
CHART_BAR = 14
CHART_TOP = 10
CHART_VALUE_ROOM = 170  # right of the plot: "968.32× [900.15–1012.34]"
CHART_LABEL_CHARS = 46
CHART_CHAR_WIDTH = 6.9  # a generous average for 12px system-ui, to size the label column


# ---------------------------------------------------------------------------------------------
# Public API


def render_html(report: Report | Mapping[str, Any], title: str | None = None) -> str:
    """The whole page for one run's report; everything from the report is escaped. A JSON
    report is read first (ReportError when it is not one)."""
    page = _page(as_report(report), title)
    return _environment().get_template(TEMPLATE).render(page=page)


def write_html(report: Report | Mapping[str, Any], path: Path) -> None:
    path.write_text(render_html(report), encoding="utf-8")


# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # FileSystemLoader next to this module works from a checkout and from an installed wheel
    # (templates/* is package data) without importing the package by name.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _page(report: Report, title: str | None = None) -> Page:
    sections = _sections(report)
    anchors = {s.target: s.anchor for s in sections}
    if title is None:
        name = PurePosixPath(report.repo.rstrip("/")).name or "repository"
        run = f"run {report.run_id} " if report.run_id is not None else ""
        title = f"Evolver {run}· {name}"
    chart = _chart(sections, _speedup)
    memory = report.measures_memory
    confirmation = report.confirmation
    return Page(
        title=title,
        repo=report.repo,
        facts=_facts(report),
        counts=[
            ("committed", report.committed, "committed"),
            ("accepted", report.accepted, "accepted"),
            ("candidates", len(report.candidates), "neutral"),
            ("targets tried", len(report.targets), "neutral"),
        ],
        confirmation=None if confirmation is None else _confirmation(confirmation),
        sandbox=list(report.sandbox),
        hotspots=_hotspots(report.hotspots or report.targets, report.targets, anchors, memory),
        hotspots_source="hotspots" if report.hotspots else "targets",
        chart=chart,
        timed=len(chart.bars) if chart else 0,
        sections=sections,
        candidates=len(report.candidates),
        level=report.level,
        notes=list(report.notes),
        flaky_tests=list(report.flaky_tests),
        version=report.version,
        css=pygments_css(),
        usage=_usage(report.usage),
        measures_memory=memory,
        memory_chart=_chart(sections, memory_view.measure) if memory else None,
        memory_level=memory_view.memory_level(report.candidates) if memory else "",
    )


def _split_target(target: str) -> tuple[str, str]:
    file, sep, name = target.partition("::")
    return (file, name) if sep else ("", target)


def _when(value: str | None) -> datetime | None:
    try:
        # fromisoformat takes "Z" only from 3.11 on; the project still runs on 3.10.
        moment = datetime.fromisoformat((value or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _moment_text(value: str) -> str:
    moment = _when(value)
    return value if moment is None else f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def _facts(report: Report) -> list[Fact]:
    facts = []
    if report.base_commit:
        facts.append(Fact("base commit", fmt.short_sha(report.base_commit), mono=True))
    branch = report.branch
    facts.append(Fact("branch", branch or "none: nothing committed", bool(branch)))
    provider = report.provider or fmt.MISSING
    model = report.model
    facts.append(Fact("provider", f"{provider} · {model}" if model else provider))
    if report.run_id is not None:
        facts.append(Fact("run", f"#{report.run_id}"))
    started, finished = report.started, report.finished
    if started:
        facts.append(Fact("started", _moment_text(started)))
    if finished:
        begin, end = _when(started), _when(finished)
        took = f" ({fmt.duration((end - begin).total_seconds())})" if begin and end else ""
        facts.append(Fact("finished", _moment_text(finished) + took))
    objective = memory_view.objective_fact(report.objective)
    return facts if objective is None else [*facts, objective]


def _usage(usage: Mapping[str, Any]) -> str | None:
    """The model's bill, when a model was asked at all."""
    if not usage.get("requests"):
        return None
    parts = [f"{usage['requests']} requests"]
    tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{tokens_in or 0} tokens in, {tokens_out or 0} out")
    cost = usage.get("cost_usd")
    if isinstance(cost, int | float) and fmt.finite(cost):
        parts.append(fmt.usd(cost))
    if usage.get("cache_hits"):
        parts.append(f"{usage['cache_hits']} cached replies")
    if usage.get("retries"):
        parts.append(f"{usage['retries']} retries")
    return " · ".join(parts)


def _confirmation(confirmation: ReportConfirmation) -> dict[str, Any]:
    speedup, ratios = confirmation.speedup, confirmation.benchmarks
    wall = fmt.wall(confirmation.base_seconds, confirmation.result_seconds)
    if confirmation.method == "benchmarks":
        how = f"geometric mean of {len(ratios)} benchmarks' medians; wall time {wall}"
    else:
        how = f"median wall time {wall}"
    change = confirmation.verdict
    css = {"faster": "good", "slower": "bad"}.get(change, "neutral")
    return {
        "speedup": fmt.times(speedup),
        "change": change,
        "class": css,
        "what": confirmation.what,
        "runs": confirmation.runs,
        "how": how,
        "benchmarks": [(name, fmt.times(r)) for name, r in ratios.items()],
    }


def _hotspots(
    rows: Sequence[ReportHotspot | ReportTarget],
    targets: tuple[ReportTarget, ...],
    anchors: dict[str, str],
    memory: bool = False,
) -> list[Hotspot]:
    complexity = {t.target: t.complexity for t in targets}
    traced = {t.target: t.memory for t in targets}
    hottest = max((r.share for r in rows if fmt.finite(r.share)), default=0.0)
    out = []
    for rank, row in enumerate(rows, 1):
        file, name = _split_target(row.target)
        share, cc = row.share, complexity.get(row.target)
        peak, detail = memory_view.profile_peak(row.memory or traced.get(row.target))
        out.append(
            Hotspot(
                rank=rank,
                target=row.target,
                file=file,
                name=name,
                share=fmt.percent(share),
                bar=round(100 * share / hottest, 1) if fmt.finite(share) and hottest > 0 else 0.0,
                own=fmt.fixed(row.own_time, 3),
                cum=fmt.fixed(row.cum_time, 3),
                calls=fmt.MISSING if row.calls is None else str(row.calls),
                complexity=fmt.MISSING if cc is None else str(cc),
                anchor=anchors.get(row.target),
                peak=(peak or fmt.MISSING) if memory else None,
                peak_detail=detail,
            )
        )
    return out


def _sections(report: Report) -> list[TargetSection]:
    """One section per target tried, in the run's order, then any target only candidates name."""
    order = list(
        dict.fromkeys([t.target for t in report.targets] + [c.target for c in report.candidates])
    )
    shares = {t.target: t.share for t in report.targets}
    traced = {t.target: t.memory for t in report.targets}
    sections = []
    for index, target in enumerate(order, 1):
        anchor = f"target-{index}"
        mine = [c for c in report.candidates if c.target == target]
        file, name = _split_target(target)
        share = shares.get(target)
        sections.append(
            TargetSection(
                target=target,
                file=file,
                name=name,
                anchor=anchor,
                share=fmt.percent(share) if fmt.finite(share) else None,
                candidates=tuple(
                    _candidate_row(c, f"{anchor}-{number}") for number, c in enumerate(mine, 1)
                ),
                peak=memory_view.profile_peak(traced.get(target))[0],
            )
        )
    return sections


def _candidate_row(candidate: ReportCandidate, anchor: str) -> CandidateRow:
    verdict = "committed" if candidate.committed else candidate.verdict
    if candidate.committed:
        detail = f"commit {fmt.short_sha(candidate.commit)}" if candidate.commit else "committed"
    else:
        detail = "a better candidate for this target won" if verdict == "accepted" else ""
    ci = candidate.ci if candidate.ci and all(fmt.finite(end) for end in candidate.ci) else None
    risk = candidate.risk
    level = risk.level if risk and risk.level else None
    patch = candidate.patch
    return CandidateRow(
        id=candidate.id,
        summary=candidate.summary or fmt.MISSING,
        provider=candidate.provider,
        verdict=verdict,
        stage=candidate.stage or fmt.MISSING,
        reason=candidate.reason,
        detail=detail,
        speedup=fmt.times(candidate.speedup),
        ci=fmt.interval(ci),
        level=interval_level([candidate]),
        first_call=fmt.times(candidate.first_call_speedup),
        speedup_value=candidate.speedup if fmt.finite(candidate.speedup) else None,
        interval=ci,
        risk_level=level,
        risk_class=level if level in RISK_LEVELS else "neutral",
        risk_reasons=risk.reasons if risk else (),
        evidence=tuple(
            (check.replace("_", " ").capitalize(), sentence, compared(sentence))
            for check, sentence in (candidate.evidence or {}).items()
        ),
        method=END_TO_END if candidate.timing_method == END_TO_END else "",
        not_compared=candidate.not_compared,
        strategies=candidate.strategies,
        diff=render_diff(patch) if patch and patch.strip() else None,
        anchor=anchor,
        memory=memory_view.memory_cell(candidate),
        definitions=tuple(
            (name, render_diff(diff)) for name, diff in candidate.changes.items() if diff.strip()
        ),
    )


# ---------------------------------------------------------------------------------------------
# The charts: speedups, and with memory in the objective the memory ratios, on the same axis


def _speedup(row: CandidateRow) -> Measure | None:
    if row.speedup_value is None:
        return None
    ci = row.interval if row.interval and min(row.interval) > 0 else None
    about = f"speedup {row.speedup}"
    about += f", {row.level} interval {row.ci}" if ci else ""
    about += ", end to end (the whole run's)" if row.method else f", first call {row.first_call}"
    return Measure(row.speedup_value, ci, row.speedup, about)


def _chart(
    sections: list[TargetSection], measure: Callable[[CandidateRow], Measure | None]
) -> Chart | None:
    """One bar per candidate with a ``measure``, grouped by target as the sections below are."""
    shown = [
        (section, row, found)
        for section in sections
        for row in section.candidates
        if (found := measure(row)) is not None and found.value > 0
    ]
    if not shown:
        return None
    values = [found.value for _, _, found in shown]
    values += [end for _, _, found in shown if found.interval for end in found.interval]
    labels = [_bar_label(section, row) for section, row, _ in shown]
    label_room = min(380.0, max(130.0, CHART_CHAR_WIDTH * max(map(len, labels)) + 20))
    scale = LogScale.around(values, label_room, CHART_WIDTH - CHART_VALUE_ROOM)
    top = CHART_TOP + 4
    bottom = top + CHART_ROW * len(shown)
    ticks = scale.ticks()
    labelled = scale.labelled(ticks)
    bars = [
        _bar(scale, i, section, row, found, label)
        for i, ((section, row, found), label) in enumerate(zip(shown, labels, strict=True))
    ]
    present = {bar.verdict for bar in bars}
    return Chart(
        width=CHART_WIDTH,
        height=int(bottom + 46),
        plot_left=scale.left,
        plot_right=scale.right,
        top=top,
        bottom=bottom,
        one=scale.x(1.0),
        ticks=tuple(
            Tick(scale.x(t), tick_label(t) if t in labelled else None, is_one(t)) for t in ticks
        ),
        bars=tuple(bars),
        verdicts=tuple(v for v in VERDICTS if v in present),
    )


def _bar(
    scale: LogScale,
    i: int,
    section: TargetSection,
    row: CandidateRow,
    measure: Measure,
    label: str,
) -> Bar:
    y = CHART_TOP + 4 + i * CHART_ROW
    start, end = scale.bar(measure.value)
    ci = measure.interval
    whisker = (scale.x(ci[0]), scale.x(ci[1])) if ci else (None, None)
    tooltip = f"{section.target} · {row.summary}"
    tooltip += f" ({' + '.join(row.strategies)})" if row.strategies else ""
    tooltip += f": {row.verdict}, {measure.about}"
    return Bar(
        y=y + (CHART_ROW - CHART_BAR) / 2,
        middle=y + CHART_ROW / 2,
        x=start,
        width=round(end - start, 2),
        low=whisker[0],
        high=whisker[1],
        label=label,
        value=measure.text + (f"  [{fmt.interval(ci, unit='')}]" if ci else ""),
        value_x=max(end, whisker[1] or end) + 8,
        verdict=row.verdict,
        tooltip=tooltip,
        stripe=i % 2 == 1,
        anchor=row.anchor,
    )


def _bar_label(section: TargetSection, row: CandidateRow) -> str:
    label = f"{section.name} · {row.summary}"
    if len(label) > CHART_LABEL_CHARS:
        label = label[: CHART_LABEL_CHARS - 1] + "…"
    return label

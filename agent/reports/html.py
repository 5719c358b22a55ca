"""The report of one run as one self-contained HTML page.

The input is the run's JSON report (format version 1, ``reports.terminal.report_json``), so
that a report saved by any earlier run can be rendered again; the fields added later (``hotspots``,
``run_id``, ``started``, ``finished``, ``model``, and ``patch``, ``evidence``, ``risk`` and
``strategy`` per candidate) are optional. The page needs nothing but itself: the chart is
inline SVG, the CSS is embedded, there is no script and no font or image to fetch, so it can be
mailed, archived as a CI artifact or opened offline and still look the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import DiffLexer, TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

from agent.domain import RISK_LEVELS, compared
from agent.reports.terminal import interval_level

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "report.html.j2"

# Pygments styles for the code in diffs: one for light pages, one for dark ones.
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"

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
# The page's parts, ready for the template: every value already formatted, nothing computed there.


@dataclass(frozen=True)
class Hotspot:
    rank: int
    target: str
    file: str
    name: str
    share: str
    bar: float  # percent of the hottest's share, for the inline bar
    own: str
    cum: str
    calls: str
    complexity: str
    anchor: str | None  # the target's section, when it has one


@dataclass(frozen=True)
class DiffRow:
    kind: str  # file, meta, hunk, add, del, ctx, note
    old: int | None
    new: int | None
    html: Markup


@dataclass(frozen=True)
class Diff:
    rows: tuple[DiffRow, ...] = ()
    fallback: Markup | None = None  # not a diff we could read: highlighted as text instead
    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class CandidateRow:
    id: str
    summary: str
    provider: str
    verdict: str  # one of VERDICTS, or whatever an unknown report says
    verdict_class: str
    stage: str
    reason: str
    detail: str  # the commit, or why an accepted candidate was not committed
    speedup: str
    ci: str
    level: str  # of the interval: "99.5%"
    first_call: str
    speedup_value: float | None  # for the chart
    interval: tuple[float, float] | None
    risk_level: str | None
    risk_class: str
    risk_reasons: tuple[str, ...]
    # (check, sentence, whether it compared anything): a check that compared nothing gets
    # no tick
    evidence: tuple[tuple[str, str, bool], ...]
    diff: Diff | None
    anchor: str
    # "end to end" when the speedup is the whole workload's (the target's calls could not be
    # timed one by one); empty when per call
    method: str = ""
    not_compared: tuple[str, ...] = ()  # stages that ran but compared nothing
    # The optimization strategies it follows: one for a model's candidate, one per rule for
    # a rules candidate ("builtins+data-structure"); empty when the report does not say.
    strategies: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetSection:
    target: str
    file: str
    name: str
    anchor: str
    share: str | None
    candidates: tuple[CandidateRow, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str | None  # None: a grid line without a label, where labels would crowd
    one: bool


@dataclass(frozen=True)
class Bar:
    y: float
    middle: float
    x: float
    width: float
    low: float | None  # the interval's ends, when known
    high: float | None
    label: str
    value: str
    value_x: float
    verdict: str
    tooltip: str
    stripe: bool
    anchor: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    top: float
    bottom: float
    one: float
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    verdicts: tuple[str, ...]  # those present, for the legend


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    mono: bool = False


@dataclass
class Page:
    title: str
    repo: str
    facts: list[Fact]
    counts: list[tuple[str, int, str]]  # label, number, css class
    confirmation: dict[str, Any] | None
    sandbox: list[str]
    hotspots: list[Hotspot]
    hotspots_source: str
    chart: Chart | None
    timed: int
    sections: list[TargetSection]
    candidates: int
    level: str  # of the speedup intervals: "99.5%"
    notes: list[str]
    flaky_tests: list[str]
    version: Any
    css: Markup
    usage: str | None = None


# ---------------------------------------------------------------------------------------------
# Public API


def render_html(report: dict[str, Any], title: str | None = None) -> str:
    """The whole page for one run's JSON report; everything from the report is escaped."""
    page = _page(report, title)
    return _environment().get_template(TEMPLATE).render(page=page)


def write_html(report: dict[str, Any], path: Path) -> None:
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


def _page(report: dict[str, Any], title: str | None = None) -> Page:
    repo = str(report.get("repo") or "")
    candidates = [c for c in _list(report.get("candidates")) if isinstance(c, dict)]
    targets = [t for t in _list(report.get("targets")) if isinstance(t, dict)]
    sections = _sections(targets, candidates)
    anchors = {s.target: s.anchor for s in sections}
    hotspot_rows = _list(report.get("hotspots"))
    hotspots_source = "hotspots" if hotspot_rows else "targets"
    hotspots = _hotspots(hotspot_rows or targets, targets, anchors)
    rows = [row for section in sections for row in section.candidates]
    committed = _int(report.get("committed"), sum(r.verdict == "committed" for r in rows))
    accepted = _int(
        report.get("accepted"), sum(r.verdict in ("committed", "accepted") for r in rows)
    )
    run_id = report.get("run_id")
    if title is None:
        name = PurePosixPath(repo.rstrip("/")).name or "repository"
        title = f"Evolver run {run_id} · {name}" if run_id is not None else f"Evolver · {name}"
    chart = _chart(sections)
    confirmation = report.get("confirmation")
    return Page(
        title=title,
        repo=repo,
        facts=_facts(report),
        counts=[
            ("committed", committed, "committed"),
            ("accepted", accepted, "accepted"),
            ("candidates", len(candidates), "neutral"),
            ("targets tried", len(targets), "neutral"),
        ],
        confirmation=_confirmation(confirmation) if isinstance(confirmation, dict) else None,
        sandbox=[str(line) for line in _list(report.get("sandbox"))],
        hotspots=hotspots,
        hotspots_source=hotspots_source,
        chart=chart,
        timed=len(chart.bars) if chart else 0,
        sections=sections,
        candidates=len(candidates),
        level=interval_level(candidates),
        notes=[str(n) for n in _list(report.get("notes"))],
        flaky_tests=[str(t) for t in _list(report.get("flaky_tests"))],
        version=report.get("version"),
        css=_pygments_css(),
        usage=_usage(report.get("usage")),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _number(value: Any) -> float | None:
    """A finite number, or None: old reports and hand-edited ones may hold anything."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _interval(ci: Any) -> tuple[float, float] | None:
    if not isinstance(ci, list | tuple) or len(ci) != 2:
        return None
    low, high = _number(ci[0]), _number(ci[1])
    return (low, high) if low is not None and high is not None else None


def _split_target(target: str) -> tuple[str, str]:
    file, sep, name = target.partition("::")
    return (file, name) if sep else ("", target)


def _seconds(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:.3f}"


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        # fromisoformat takes "Z" only from 3.11 on; the project still runs on 3.10.
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _moment_text(value: Any) -> str:
    moment = _when(value)
    if moment is None:
        return str(value)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _facts(report: dict[str, Any]) -> list[Fact]:
    facts = []
    base = report.get("base_commit")
    if base:
        facts.append(Fact("base commit", str(base)[:10], mono=True))
    branch = report.get("branch")
    facts.append(Fact("branch", str(branch) if branch else "none: nothing committed", bool(branch)))
    provider = str(report.get("provider") or "–")
    model = report.get("model")
    facts.append(Fact("provider", f"{provider} · {model}" if model else provider))
    if report.get("run_id") is not None:
        facts.append(Fact("run", f"#{report['run_id']}"))
    started, finished = report.get("started"), report.get("finished")
    if started:
        facts.append(Fact("started", _moment_text(started)))
    if finished:
        begin, end = _when(started), _when(finished)
        took = f" ({_duration((end - begin).total_seconds())})" if begin and end else ""
        facts.append(Fact("finished", _moment_text(finished) + took))
    return facts


def _usage(usage: Any) -> str | None:
    """The model's bill, when a model was asked at all."""
    if not isinstance(usage, dict) or not usage.get("requests"):
        return None
    parts = [f"{usage['requests']} requests"]
    tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{tokens_in or 0} tokens in, {tokens_out or 0} out")
    cost = _number(usage.get("cost_usd"))
    if cost is not None:
        parts.append(f"${cost:.4f}")
    if usage.get("cache_hits"):
        parts.append(f"{usage['cache_hits']} cached replies")
    if usage.get("retries"):
        parts.append(f"{usage['retries']} retries")
    return " · ".join(parts)


def _confirmation(confirmation: dict[str, Any]) -> dict[str, Any]:
    speedup = _number(confirmation.get("speedup"))
    base = _number(confirmation.get("base_seconds"))
    result = _number(confirmation.get("result_seconds"))
    wall = f"{base:.2f} s → {result:.2f} s" if base is not None and result is not None else "–"
    benchmarks = confirmation.get("benchmarks")
    ratios = benchmarks if isinstance(benchmarks, dict) else {}
    if confirmation.get("method") == "benchmarks":
        how = f"geometric mean of {len(ratios)} benchmarks' medians; wall time {wall}"
    else:
        how = f"median wall time {wall}"
    # A few runs a side are not a proof: within 2% is called no change, as in the CLI.
    if speedup is None:
        change, css = "unknown", "neutral"
    elif speedup > 1.02:
        change, css = "faster", "good"
    elif speedup < 0.98:
        change, css = "slower", "bad"
    else:
        change, css = "about the same", "neutral"
    return {
        "speedup": _x(speedup),
        "change": change,
        "class": css,
        "what": str(confirmation.get("what") or ""),
        "runs": confirmation.get("runs"),
        "how": how,
        "benchmarks": [(str(name), _x(_number(r))) for name, r in ratios.items()],
    }


def _hotspots(
    rows: list[Any], targets: list[dict[str, Any]], anchors: dict[str, str]
) -> list[Hotspot]:
    complexity = {str(t.get("target")): t.get("complexity") for t in targets}
    rows = [r for r in rows if isinstance(r, dict)]
    shares = [_number(r.get("share")) for r in rows]
    hottest = max((s for s in shares if s is not None), default=0.0)
    out = []
    for rank, (row, share) in enumerate(zip(rows, shares, strict=True), 1):
        target = str(row.get("target") or "")
        file, name = _split_target(target)
        cc = row.get("complexity", complexity.get(target))
        calls = row.get("calls")
        out.append(
            Hotspot(
                rank=rank,
                target=target,
                file=file,
                name=name,
                share="–" if share is None else f"{share:.1%}",
                bar=round(100 * share / hottest, 1) if share and hottest > 0 else 0.0,
                own=_seconds(row.get("own_time")),
                cum=_seconds(row.get("cum_time")),
                calls="–" if calls is None else str(calls),
                complexity="–" if cc is None else str(cc),
                anchor=anchors.get(target),
            )
        )
    return out


def _sections(
    targets: list[dict[str, Any]], candidates: list[dict[str, Any]]
) -> list[TargetSection]:
    """One section per target tried, in the run's order, then any target only candidates name."""
    order: list[str] = []
    for name in [str(t.get("target") or "") for t in targets] + [
        str(c.get("target") or "") for c in candidates
    ]:
        if name not in order:
            order.append(name)
    shares = {str(t.get("target")): _number(t.get("share")) for t in targets}
    sections = []
    for index, target in enumerate(order, 1):
        anchor = f"target-{index}"
        rows = tuple(
            _candidate_row(c, f"{anchor}-{number}")
            for number, c in enumerate(
                (c for c in candidates if str(c.get("target") or "") == target), 1
            )
        )
        file, name = _split_target(target)
        share = shares.get(target)
        sections.append(
            TargetSection(
                target=target,
                file=file,
                name=name,
                anchor=anchor,
                share=None if share is None else f"{share:.1%}",
                candidates=rows,
            )
        )
    return sections


def _candidate_row(candidate: dict[str, Any], anchor: str) -> CandidateRow:
    committed = bool(candidate.get("committed"))
    verdict = "committed" if committed else str(candidate.get("verdict") or "unknown")
    ci = _interval(candidate.get("ci"))
    risk = candidate.get("risk")
    level = str(risk.get("level")) if isinstance(risk, dict) and risk.get("level") else None
    reasons = tuple(str(r) for r in _list(risk.get("reasons"))) if isinstance(risk, dict) else ()
    evidence = candidate.get("evidence")
    patch = candidate.get("patch")
    commit = candidate.get("commit")
    if committed:
        detail = f"commit {str(commit)[:10]}" if commit else "committed"
    elif verdict == "accepted":
        detail = "a better candidate for this target won"
    else:
        detail = ""
    return CandidateRow(
        id=str(candidate.get("id") or ""),
        summary=str(candidate.get("summary") or "–"),
        provider=str(candidate.get("provider") or ""),
        verdict=verdict,
        verdict_class=verdict if verdict in VERDICTS else "neutral",
        stage=str(candidate.get("stage") or "–"),
        reason=str(candidate.get("reason") or ""),
        detail=detail,
        speedup=_x(_number(candidate.get("speedup"))),
        ci=f"{ci[0]:.2f}–{ci[1]:.2f}×" if ci else "–",
        level=interval_level([candidate]),
        first_call=_x(_number(candidate.get("first_call_speedup"))),
        speedup_value=_number(candidate.get("speedup")),
        interval=ci,
        risk_level=level,
        risk_class=level if level in RISK_LEVELS else "neutral",
        risk_reasons=reasons,
        evidence=tuple(
            (_check_label(str(k)), str(v), compared(str(v))) for k, v in evidence.items()
        )
        if isinstance(evidence, dict)
        else (),
        method="end to end" if candidate.get("timing_method") == "end to end" else "",
        not_compared=tuple(str(s) for s in _list(candidate.get("not_compared"))),
        strategies=_strategies(candidate.get("strategy")),
        diff=render_diff(patch) if isinstance(patch, str) and patch.strip() else None,
        anchor=anchor,
    )


def _strategies(label: Any) -> tuple[str, ...]:
    """``"builtins+data-structure"`` as its parts; nothing for a missing or odd value."""
    if not isinstance(label, str):
        return ()
    return tuple(part for part in (p.strip() for p in label.split("+")) if part)


def _check_label(check: str) -> str:
    return check.replace("_", " ").capitalize()


# ---------------------------------------------------------------------------------------------
# The chart


def _nice(exponent_low: int, exponent_high: int) -> list[float]:
    """The 1-2-5 numbers between two powers of ten."""
    return [float(f"{m}e{e}") for e in range(exponent_low, exponent_high + 1) for m in (1, 2, 5)]


def _axis(values: list[float]) -> tuple[float, float, list[float]]:
    """Log axis ends on 1-2-5 numbers around the values, with 1× and 2× always inside."""
    smallest, largest = min([*values, 1.0]), max([*values, 2.0])
    nice = _nice(math.floor(math.log10(smallest)) - 1, math.ceil(math.log10(largest)) + 1)
    # A hair of tolerance so that a value of exactly 2.0 does not push the axis to 5×.
    low = max(t for t in nice if t <= smallest * 1.000001)
    high = min(t for t in nice if t >= largest / 1.000001)
    return low, high, [t for t in nice if low <= t <= high]


def _tick_label(tick: float) -> str:
    return f"{tick:.0f}×" if tick >= 1 else f"{tick:g}×"


def _chart(sections: list[TargetSection]) -> Chart | None:
    """One bar per timed candidate, grouped by target as the sections below are."""
    timed: list[tuple[TargetSection, CandidateRow, float, tuple[float, float] | None]] = []
    for section in sections:
        for row in section.candidates:
            speedup = row.speedup_value
            if speedup is not None and speedup > 0:
                ci = row.interval if row.interval and min(row.interval) > 0 else None
                timed.append((section, row, speedup, ci))
    if not timed:
        return None
    values = [s for _, _, s, _ in timed]
    values += [v for _, _, _, ci in timed if ci for v in ci]
    low, high, ticks = _axis(values)
    labels = [_bar_label(section, row) for section, row, _, _ in timed]
    label_room = min(380.0, max(130.0, CHART_CHAR_WIDTH * max(map(len, labels)) + 20))
    left, right = label_room, CHART_WIDTH - CHART_VALUE_ROOM
    span = math.log(high) - math.log(low)

    def x(value: float) -> float:
        value = min(max(value, low), high)
        return round(left + (math.log(value) - math.log(low)) / span * (right - left), 2)

    top = CHART_TOP + 4
    bottom = top + CHART_ROW * len(timed)
    one = x(1.0)
    # Powers of ten always get a label; 2s and 5s only while there is room for them.
    room = (right - left) / max(1, len(ticks) - 1)
    sparse = room < 44
    tick_rows = tuple(
        Tick(
            x=x(t),
            label=_tick_label(t) if not sparse or f"{t:e}".startswith("1") else None,
            one=abs(t - 1.0) < 1e-9,
        )
        for t in ticks
    )
    bars = []
    for i, ((section, row, speedup, ci), label) in enumerate(zip(timed, labels, strict=True)):
        y = top + i * CHART_ROW
        start, end = sorted((one, x(speedup)))
        if end - start < 2:  # no change: a stub at 1×, so that every candidate has its bar
            start, end = one - 1, one + 1
        whisker = (x(ci[0]), x(ci[1])) if ci else (None, None)
        value = row.speedup + (f"  [{ci[0]:.2f}–{ci[1]:.2f}]" if ci else "")
        tooltip = f"{section.target} · {row.summary}"
        tooltip += f" ({' + '.join(row.strategies)})" if row.strategies else ""
        tooltip += f": {row.verdict}, speedup {row.speedup}"
        tooltip += f", {row.level} interval {row.ci}" if ci else ""
        tooltip += (
            ", end to end (the whole run's)" if row.method else f", first call {row.first_call}"
        )
        bars.append(
            Bar(
                y=y + (CHART_ROW - CHART_BAR) / 2,
                middle=y + CHART_ROW / 2,
                x=start,
                width=round(end - start, 2),
                low=whisker[0],
                high=whisker[1],
                label=label,
                value=value,
                value_x=max(end, whisker[1] or end) + 8,
                verdict=row.verdict_class,
                tooltip=tooltip,
                stripe=i % 2 == 1,
                anchor=row.anchor,
            )
        )
    present = {bar.verdict for bar in bars}
    return Chart(
        width=CHART_WIDTH,
        height=int(bottom + 46),
        plot_left=left,
        plot_right=right,
        top=top,
        bottom=bottom,
        one=one,
        ticks=tick_rows,
        bars=tuple(bars),
        verdicts=tuple(v for v in (*VERDICTS, "neutral") if v in present),
    )


def _bar_label(section: TargetSection, row: CandidateRow) -> str:
    label = f"{section.name} · {row.summary}"
    if len(label) > CHART_LABEL_CHARS:
        label = label[: CHART_LABEL_CHARS - 1] + "…"
    return label


# ---------------------------------------------------------------------------------------------
# Diffs


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True, noclasses=False)


def _lexer_for(path: str | None) -> Lexer:
    # Keep leading and trailing blank lines: the lines of a hunk must map one to one.
    options = {"stripnl": False, "ensurenl": True}
    if path:
        try:
            return get_lexer_for_filename(path, **options)
        except ClassNotFound:
            pass
    return TextLexer(**options)


def _highlight_lines(lines: list[str], lexer: Lexer) -> list[Markup]:
    """Each line's HTML, lexed together so that a construct spanning lines keeps its colour."""
    if not lines:
        return []
    html = highlight("\n".join(lines) + "\n", lexer, _formatter())
    # HtmlFormatter closes its spans at every line end, so the output splits cleanly by line.
    out = html.split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(lines):
        return [Markup(escape(line)) for line in lines]
    return [Markup(line) for line in out]


def render_diff(patch: str) -> Diff:
    """A unified diff (git style) as rows: the code on both sides highlighted as what it is
    (Python for ``.py``), each hunk's old and new side lexed as a whole."""
    lines = patch.splitlines()
    rows: list[DiffRow] = []
    added = removed = 0
    old_path: str | None = None
    lexer = _lexer_for(None)
    i = 0
    hunks = 0
    while i < len(lines):
        line = lines[i]
        match = _HUNK.match(line)
        if match is None:
            if line.startswith("--- "):
                old_path = _diff_path(line[4:])
            elif line.startswith("+++ "):
                new_path = _diff_path(line[4:])
                shown = new_path or old_path or "?"
                if old_path and new_path and old_path != new_path:
                    shown = f"{old_path} → {new_path}"
                elif new_path is None:
                    shown = f"{old_path} (deleted)"
                rows.append(DiffRow("file", None, None, Markup(escape(shown))))
                lexer = _lexer_for(new_path or old_path)
            elif not line.startswith(("diff --git ", "index ")):
                rows.append(DiffRow("meta", None, None, Markup(escape(line))))
            i += 1
            continue
        hunks += 1
        old_no, new_no = int(match[1]), int(match[3])
        old_left = int(match[2]) if match[2] is not None else 1
        new_left = int(match[4]) if match[4] is not None else 1
        rows.append(DiffRow("hunk", None, None, Markup(escape(line))))
        i += 1
        body: list[tuple[str, str]] = []
        while i < len(lines) and (old_left > 0 or new_left > 0 or lines[i].startswith("\\")):
            text = lines[i]
            sign = text[:1] or " "  # some tools strip the space of an empty context line
            if sign == "\\":
                body.append(("\\", text))
            elif sign == "+":
                new_left -= 1
                body.append((sign, text[1:]))
            elif sign == "-":
                old_left -= 1
                body.append((sign, text[1:]))
            elif sign == " ":
                old_left, new_left = old_left - 1, new_left - 1
                body.append((sign, text[1:]))
            else:
                break
            i += 1
        old_html = iter(_highlight_lines([t for s, t in body if s in " -"], lexer))
        new_html = iter(_highlight_lines([t for s, t in body if s in " +"], lexer))
        for sign, text in body:
            if sign == "\\":
                rows.append(DiffRow("note", None, None, Markup(escape(text))))
            elif sign == "-":
                rows.append(DiffRow("del", old_no, None, next(old_html)))
                old_no += 1
                removed += 1
            elif sign == "+":
                rows.append(DiffRow("add", None, new_no, next(new_html)))
                new_no += 1
                added += 1
            else:
                next(old_html)
                rows.append(DiffRow("ctx", old_no, new_no, next(new_html)))
                old_no, new_no = old_no + 1, new_no + 1
    if hunks == 0:
        return Diff(fallback=Markup(highlight(patch, DiffLexer(), HtmlFormatter())))
    return Diff(rows=tuple(rows), added=added, removed=removed)


def _diff_path(text: str) -> str | None:
    path = text.split("\t")[0].strip()
    if path == "/dev/null":
        return None
    return path[2:] if path.startswith(("a/", "b/")) else path


@lru_cache(maxsize=1)
def _pygments_css() -> Markup:
    """Token colours for the light style, and the dark style's under prefers-color-scheme."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_token_style_defs(".highlight")
    dark = HtmlFormatter(style=DARK_STYLE).get_token_style_defs(".highlight")
    css = "\n".join(light)
    css += "\n@media screen and (prefers-color-scheme: dark) {\n" + "\n".join(dark) + "\n}\n"
    # Lexing a hunk that starts mid-construct can yield error tokens: no red boxes for those.
    css += ".highlight .err { border: none; background: none; }\n"
    return Markup(css)

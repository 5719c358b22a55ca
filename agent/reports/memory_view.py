"""The HTML report's memory parts, for a run with memory in its objective (``--objective memory``
or ``both``): each candidate's peak memory against the original's, the memory profile's peak of
each target, and what the run's objective was. ``agent.reports.html`` puts them on the page (and
draws the memory chart with the speedup chart's code); a run that measured time only has none.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.domain import confidence_text
from agent.reports import format as fmt
from agent.reports.model import ReportCandidate, ReportMemory, ReportMemoryProfile
from agent.reports.page import CandidateRow, Fact, Measure, MemoryCell

MEMORY_CONFIDENCE = 0.99  # the memory intervals' level when no candidate's figures are shown
NBSP = "\u00a0"  # "3.2 MiB" stays on one line where the cell wraps

_OBJECTIVES = {
    "memory": "memory: leaner in peak memory, and no slower than allowed",
    "both": "time and memory: better on one, and no worse on the other than allowed",
}


def objective_fact(objective: str | None) -> Fact | None:
    """What the run made better, when it was not time alone."""
    shown = _OBJECTIVES.get(objective or "")
    return None if shown is None else Fact("objective", shown)


def size(value: float | None) -> str:
    return fmt.size(value).replace(" ", NBSP)


def memory_level(candidates: Iterable[ReportCandidate]) -> str:
    """The level of the candidates' memory intervals (``"99%"``): the lowest, if they differ."""
    levels = [c.memory.confidence for c in candidates if c.memory and 0 < c.memory.confidence < 1]
    return confidence_text(min(levels, default=MEMORY_CONFIDENCE))


def memory_cell(candidate: ReportCandidate) -> MemoryCell | None:
    """The candidate's memory figures as the page shows them; none when it was not measured."""
    memory = candidate.memory
    if memory is None:
        return None
    ci = memory.ci if all(fmt.finite(end) and end > 0 for end in memory.ci) else None
    level = confidence_text(memory.confidence) if 0 < memory.confidence < 1 else "?"
    peak = f"{size(memory.original)} → {size(memory.candidate)}"
    ratio = fmt.less_or_more(memory.ratio)
    about = f"peak memory {peak.replace(NBSP, ' ')}, {ratio}"
    about += f", {level} interval {fmt.interval(ci)}" if ci else ""
    measure = (
        Measure(memory.ratio, ci, fmt.times(memory.ratio), about)
        if fmt.finite(memory.ratio) and memory.ratio > 0
        else None
    )
    return MemoryCell(
        peak=peak,
        ratio=ratio,
        ci=fmt.interval(ci),
        level=level,
        detail=_detail(memory),
        measure=measure,
    )


def measure(row: CandidateRow) -> Measure | None:
    """The bar of the row's candidate in the memory chart, if it has one."""
    return row.memory.measure if row.memory else None


def _detail(memory: ReportMemory) -> str:
    """What else was measured: what the calls left allocated, the kernel's count of the
    processes' peak, and how many processes."""
    parts = [
        f"left allocated after the calls {fmt.size(memory.retained[0])} → "
        f"{fmt.size(memory.retained[1])}"
    ]
    if memory.rss[0] and memory.rss[1]:
        parts.append(
            f"processes peaked at {fmt.size(memory.rss[0])} → {fmt.size(memory.rss[1])} "
            "(the kernel's count)"
        )
    if memory.processes:
        parts.append(f"{fmt.plural(memory.processes, 'process', 'processes')} a side")
    return "; ".join(parts)


def profile_peak(memory: ReportMemoryProfile | None) -> tuple[str | None, str]:
    """A target's peak of one call in the memory profile, and the rest of that profile."""
    if memory is None:
        return None, ""
    detail = (
        f"peak of one call {fmt.size(memory.peak)}; {fmt.size(memory.allocated)} over "
        f"{fmt.plural(memory.calls, 'call')}; {fmt.size(memory.alive)} still allocated at the end"
    )
    return size(memory.peak), detail

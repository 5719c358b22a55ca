"""Peak memory of the original against a candidate on the recorded calls, and what the last stage
then asks of its timing (``--objective memory`` or ``both``).

Each side's calls run once per fresh process, processes alternating (A B B A …), under
``tracemalloc`` (``evolver_timer.py``, mode ``memory``): a process's figure is its calls' peaks
summed, and the ratio of the sides' medians gets a bootstrap interval, as a speedup does. The
figures come from a process that ran the candidate's code, so they are fenced and cross-checked:
``tracemalloc`` is bound before that code is imported and fenced off from it (a candidate that
reaches for it is rejected); every call's outcome must be the one the behaviour check saw; and
the kernel's count of each process's peak memory (its cgroup's, read here) must not contradict
the traced one. Memory is close to deterministic, so fewer processes settle it than time needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from agent.domain import MemoryUse, TargetRef, Verdict, confidence_text
from agent.project.runner import Project
from agent.reports import format as fmt
from agent.verify.answers import MemoryAnswer
from agent.verify.harness import HarnessError, run_harness_with_result
from agent.verify.stats import speedup_interval
from sandbox import Sandbox

PROCESSES = 5  # per side
CONFIDENCE = 0.99
# The kernel's figure includes the interpreter and allocator slack the traced one does not: a
# candidate whose processes peak this much higher than the original's is not leaner, whatever
# it traced.
_RSS_TOLERANCE = 1.10
_RSS_SLACK = 4 * 1024 * 1024


class MemoryMeasureError(Exception):
    """A memory process failed; the message says how."""


@dataclass(frozen=True)
class MemoryComparison:
    """The figures, what each side's calls did while measured (call index → digests), and what
    of ``tracemalloc`` each side's code reached for."""

    use: MemoryUse
    seen: tuple[dict[int, set[str]], dict[int, set[str]]]
    touched: tuple[frozenset[str], frozenset[str]]


def compare_memory(
    project: Project,
    original: Sandbox,
    candidate: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    timeout: float,
    processes: int = PROCESSES,
) -> MemoryComparison:
    """Alternate original and candidate processes, ``processes`` a side."""
    spec = {"mode": "memory", "module": target.module, "qualname": target.qualname}
    sides = (original, candidate)
    peaks: tuple[list[float], list[float]] = ([], [])
    retained: tuple[list[int], list[int]] = ([], [])
    rss: tuple[list[int], list[int]] = ([], [])
    seen: tuple[dict[int, set[str]], dict[int, set[str]]] = ({}, {})
    touched: tuple[set[str], set[str]] = (set(), set())
    for round_ in range(processes):
        for side in (0, 1) if round_ % 2 == 0 else (1, 0):
            try:
                answer, result = run_harness_with_result(
                    project, sides[side], "evolver_timer.py", spec, calls, timeout, MemoryAnswer
                )
            except HarnessError as error:
                raise MemoryMeasureError(f"memory process {error}") from None
            touched[side].update(answer.touched)
            if answer.untraced or len(answer.peaks) != len(calls):
                raise MemoryMeasureError(
                    f"memory process measured {len(answer.peaks)} of {len(calls)} calls: "
                    "tracing stopped under it"
                )
            peaks[side].append(max(1, sum(answer.peaks)))
            retained[side].append(sum(answer.retained))
            if result.peak_memory is not None:
                rss[side].append(result.peak_memory)
            for index, found in enumerate(answer.digests):
                seen[side].setdefault(index, set()).add(found)
    ratio, interval = speedup_interval(peaks[0], peaks[1], confidence=CONFIDENCE)
    use = MemoryUse(
        original=int(median(peaks[0])),
        candidate=int(median(peaks[1])),
        ratio=ratio,
        ci=interval,
        processes=processes,
        retained=(int(median(retained[0])), int(median(retained[1]))),
        rss=(_median(rss[0]), _median(rss[1])),
        confidence=CONFIDENCE,
    )
    return MemoryComparison(use, seen, (frozenset(touched[0]), frozenset(touched[1])))


def _median(values: list[int]) -> int:
    return int(median(values)) if values else 0


@dataclass(frozen=True)
class MemoryJudgement:
    """The memory half of the last stage: a rejection, or the bar its timing must then clear
    (``time_bar``, a speedup: below 1 where it may be a little slower)."""

    rejection: Verdict | None
    time_bar: float


def judge_memory(
    comparison: MemoryComparison, objective: str, min_speedup: float, min_saving: float,
    max_slowdown: float,
) -> MemoryJudgement:  # fmt: skip
    """The figures' verdict (once :func:`untrustworthy` found nothing wrong with them).

    Under ``memory``: leaner by ``min_saving`` at the interval's lower end, then no slower
    than ``max_slowdown``. Under ``both`` (Pareto): leaner so, then no slower than
    ``max_slowdown``; or no larger than ``max_slowdown`` times the original's peak, then faster
    by ``min_speedup``."""
    use = comparison.use
    low, high = use.ci
    leaner_bar = 1 / (1 - min_saving)
    tolerance = 1 / max_slowdown
    figures = (
        f"peak {fmt.size(use.original)} → {fmt.size(use.candidate)} per pass over the calls, "
        f"{fmt.less_or_more(use.ratio)} ({confidence_text(CONFIDENCE)} interval "
        f"{fmt.interval((low, high))} less)"
    )
    if low >= leaner_bar:
        return MemoryJudgement(None, tolerance)
    if objective == "both" and low >= tolerance:
        return MemoryJudgement(None, min_speedup)
    if high < 1:
        why = f"uses more memory: {figures}"
    elif objective == "both":
        why = (
            f"neither leaner by {min_saving:.0%} nor within {max_slowdown}× of the original's "
            f"memory: {figures}"
        )
    else:
        why = (
            f"not proven to save {min_saving:.0%} of peak memory: {figures}, which reaches "
            f"below {leaner_bar:.3g}×"
        )
    return MemoryJudgement(Verdict(False, "memory", why), min_speedup)


def untrustworthy(comparison: MemoryComparison, calls: int) -> str | None:
    """Why the figures cannot be believed, if they cannot: the code reached for the tracer, or
    the kernel's count of the processes' peaks (read here, out of the code's reach) contradicts
    them either way. A process's peak is that of its largest call, so a traced saving shows
    there at most per call: half of an average call's, beyond the slack, is asked to show."""
    original, candidate = comparison.touched
    if original:
        return "its memory cannot be measured: the original itself uses tracemalloc"
    if candidate:
        names = ", ".join(f"tracemalloc.{name}" for name in sorted(candidate)[:3])
        return f"reaches for {names} while its memory is measured: that is not its to change"
    use = comparison.use
    base, seen = use.rss
    if not (base and seen) or use.ratio <= 1:
        return None
    outside = f"({fmt.size(seen)} against the original's {fmt.size(base)})"
    if seen > base * _RSS_TOLERANCE + _RSS_SLACK:
        return (
            f"traced less memory, but its processes peaked higher seen from outside them {outside}"
        )
    per_call = (use.original - use.candidate) / max(1, calls)
    if base - seen < per_call / 2 - _RSS_SLACK:
        return (
            f"traced {fmt.size(per_call)} less a call, but seen from outside its processes "
            f"peaked about as high {outside}"
        )
    return None


def memory_evidence(use: MemoryUse, calls: int) -> str:
    """One sentence for reports and pull requests."""
    retained = (
        f"; left allocated after the calls {fmt.size(use.retained[0])} → "
        f"{fmt.size(use.retained[1])}"
    )
    outside = (
        f"; seen from outside, processes peaked at {fmt.size(use.rss[0])} → {fmt.size(use.rss[1])}"
        if use.rss[0] and use.rss[1]
        else "; the kernel's count of each process's peak was not available to cross-check"
    )
    return (
        f"peak memory {fmt.size(use.original)} → {fmt.size(use.candidate)} "
        f"({fmt.less_or_more(use.ratio)}, {confidence_text(use.confidence)} interval "
        f"{fmt.interval(use.ci)} less) on {calls} recorded calls, {use.processes} alternating "
        f"fresh processes a side traced by tracemalloc{retained}{outside}"
    )

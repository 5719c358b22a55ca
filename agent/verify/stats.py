"""Deciding "faster" with statistics: a bootstrap confidence interval on the speedup, looked at
again (more strictly) while more samples are taken."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from statistics import median
from typing import Literal


def speedup_interval(
    original: list[float],
    candidate: list[float],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    per_process: int | None = None,
) -> tuple[float, tuple[float, float]]:
    """Speedup as the ratio of median times (original / candidate), and its bootstrap interval.

    Medians resist the outliers a busy machine produces; resampling each side independently
    gives the interval without assuming a distribution. Seeded: the same samples give the
    same decision.

    ``per_process`` says that the samples came from processes giving that many values each,
    in order (the last process may have fewer). Values of one process are correlated: they
    share its memory layout, hash seed, caches and CPU placement, so a process runs a few
    per cent fast or slow as a whole. Resampling the values as if each were independent
    counts 24 values as 24 pieces of evidence when there are nearer 6, and the interval comes
    out too narrow: in ``scripts/bench-stats`` identical code on both sides (A/A) got a lower
    end above 1.0 in 7-14% of comparisons instead of the 2.5% a 95% interval allows. So the
    bootstrap follows how the data were made: it resamples processes, then values within
    each drawn process (a two-stage, or hierarchical, bootstrap), which brings that back to
    about 2.5% (0-5 of 100 in each noise model there).
    Without ``per_process`` every value counts as its own process, as before.
    """
    if not original or not candidate:
        raise ValueError("both sides need at least one sample")
    if per_process is not None and per_process < 1:
        raise ValueError("per_process must be at least 1")
    rng = random.Random(seed)
    if per_process is None or per_process == 1:
        ratios = sorted(
            median(rng.choices(original, k=len(original)))
            / median(rng.choices(candidate, k=len(candidate)))
            for _ in range(resamples)
        )
    else:
        groups = (_chunks(original, per_process), _chunks(candidate, per_process))
        ratios = sorted(
            _two_stage_median(rng, groups[0]) / _two_stage_median(rng, groups[1])
            for _ in range(resamples)
        )
    tail = (1 - confidence) / 2
    low = ratios[int(tail * (resamples - 1))]
    high = ratios[int((1 - tail) * (resamples - 1))]
    return median(original) / median(candidate), (low, high)


def _chunks(values: list[float], size: int) -> list[list[float]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _two_stage_median(rng: random.Random, groups: list[list[float]]) -> float:
    """The median of one two-stage resample: processes with replacement, then values within."""
    # rng.choices inlined (the same draws, so the same results): this runs thousands of times
    # per look, and the calls were most of its cost.
    random = rng.random
    count = len(groups)
    pooled: list[float] = []
    for group in [groups[int(random() * count)] for _ in range(count)]:
        size = len(group)
        pooled += [group[int(random() * size)] for _ in range(size)]
    return median(pooled)


# Sequential timing: look again while the interval straddles the bar, more strictly each time.
# Why a stricter level at every look: each look is another chance for noise to push the lower
# end over the bar, so with a 95% interval at each of four looks identical code could be
# accepted up to 4 x 2.5% = 10% of the time. Splitting the allowed error evenly over the most
# looks that can happen (Bonferroni; even shares as in Pocock's design) keeps the chance of any
# false accept at or below ``false_accept`` however the looks are correlated and whenever the
# comparison stops, since a stop can only remove looks. Rejecting (the whole interval below
# the bar) needs no such care: it never accepts. The bound is only as good as each look's
# interval: the two-stage bootstrap keeps about its level from 6 processes a side up
# (scripts/bench-stats: identical code against a bar of 1.0, the hardest case, accepted in
# 0-2 of 50 per noise model; 2 of 200 where it was highest).
FALSE_ACCEPT = 0.01
LOOK_GROWTH = 1.6
# A percentile interval needs some resamples beyond each end to be stable.
_TAIL_RESAMPLES = 10

Decision = Literal["faster", "not faster", "undecided"]


def decide(interval: tuple[float, float], bar: float) -> Decision:
    """``faster`` when the whole interval clears the bar, ``not faster`` when it lies below it."""
    low, high = interval
    if low >= bar:
        return "faster"
    if high < bar:
        return "not faster"
    return "undecided"


def reachable(rounds: int, spent: float, budget: float, most: int) -> int:
    """Processes a side a sequential comparison can still reach: pairs of rounds at the pace
    of its ``rounds`` so far (``spent`` seconds) that end within ``budget``, up to ``most``."""
    if rounds < 1:
        return most
    pairs = max(0, math.floor((budget - spent) / (2 * spent / rounds))) if spent > 0 else most
    return min(most, rounds + 2 * pairs)


def hopeless(seen: Look, reachable: int) -> bool:
    """Whether ``seen``, undecided, could not become "faster" by ``reachable`` processes a side
    even if the speedup were the top of its interval: the interval narrows about as the square
    root of the processes, and its lower end would still sit below the bar. Stopping then
    only spares time: it never accepts, so it costs none of the false-accept rate."""
    if seen.decision != "undecided" or reachable <= seen.processes:
        return False
    low, high = (math.log(max(end, 1e-12)) for end in seen.interval)
    half_then = (high - low) / 2 * math.sqrt(seen.processes / reachable)
    return high - half_then < math.log(seen.bar)


def look_schedule(first: int, most: int, growth: float = LOOK_GROWTH) -> list[int]:
    """Processes per side at each look: ``first``, then growing by ``growth``, up to ``most``.

    Steps are even, so that the rounds added between looks keep the A B B A alternation
    balanced; growing geometrically keeps the looks few (each costs some of the error allowed).
    """
    if first < 1:
        raise ValueError("the first look needs at least one process per side")
    looks = [first]
    while looks[-1] < most:
        step = max(2, 2 * math.ceil(round(looks[-1] * (growth - 1) / 2, 6)))
        looks.append(min(most, looks[-1] + step))
    return looks


def look_confidence(looks: int, false_accept: float = FALSE_ACCEPT) -> float:
    """Two-sided confidence of each look's interval: ``false_accept`` spread over ``looks``.

    Accepting means the lower end clears the bar, a one-sided error of (1 - confidence) / 2 at
    each look; the looks' shares add up to ``false_accept`` at most.
    """
    if looks < 1 or not 0 < false_accept < 0.5:
        raise ValueError("need at least one look and a false-accept rate in (0, 0.5)")
    return 1 - 2 * false_accept / looks


def resamples_for(confidence: float, least: int = 2000) -> int:
    """Enough bootstrap resamples that each end of the interval rests on several of them."""
    return max(least, math.ceil(_TAIL_RESAMPLES / ((1 - confidence) / 2)))


@dataclass(frozen=True)
class Look:
    """What one look at the samples showed: ``processes`` per side so far."""

    processes: int
    speedup: float
    interval: tuple[float, float]
    decision: Decision
    confidence: float  # the interval's level
    bar: float


def look(
    original: list[float],
    candidate: list[float],
    per_process: int,
    bar: float,
    confidence: float,
    resamples: int | None = None,
) -> Look:
    """The interval at ``confidence`` on the samples so far, and what it says about ``bar``.

    ``resamples`` by default: enough for that confidence (``resamples_for``).
    """
    speedup, interval = speedup_interval(
        original,
        candidate,
        confidence=confidence,
        resamples=resamples or resamples_for(confidence),
        per_process=per_process,
    )
    processes = math.ceil(min(len(original), len(candidate)) / per_process)
    return Look(processes, speedup, interval, decide(interval, bar), confidence, bar)


def sequential(
    original: list[float],
    candidate: list[float],
    per_process: int,
    bar: float,
    looks: list[int],
    false_accept: float = FALSE_ACCEPT,
    resamples: int | None = None,
    planned_looks: int | None = None,
) -> Look:
    """The sequential rule on samples already taken (for tests and ``scripts/bench-stats``).

    Looks at the first ``looks[i]`` processes of each side in turn, as ``timing.compare``
    does while it measures, and stops at the first decided look, at a look that the last
    could not turn into "faster" (``hopeless``), or after the last.
    ``planned_looks``: how many looks the schedule had, when a budget cut it short (the
    level of each look is set by the schedule, not by how many were taken).
    """
    confidence = look_confidence(planned_looks or len(looks), false_accept)
    seen: Look | None = None
    for processes in looks:
        values = processes * per_process
        seen = look(original[:values], candidate[:values], per_process, bar, confidence, resamples)
        if seen.decision != "undecided" or hopeless(seen, looks[-1]):
            break
    if seen is None:
        raise ValueError("need at least one look")
    return seen

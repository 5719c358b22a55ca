"""Deciding "faster" with statistics: a bootstrap confidence interval on the speedup."""

from __future__ import annotations

import random
from statistics import median


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
    pooled: list[float] = []
    for group in rng.choices(groups, k=len(groups)):
        pooled.extend(rng.choices(group, k=len(group)))
    return median(pooled)

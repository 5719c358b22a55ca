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
) -> tuple[float, tuple[float, float]]:
    """Speedup as the ratio of median times (original / candidate), and its bootstrap interval.

    Medians resist the outliers a busy machine produces; resampling each side independently
    gives the interval without assuming a distribution. Seeded: the same samples give the
    same decision.
    """
    if not original or not candidate:
        raise ValueError("both sides need at least one sample")
    rng = random.Random(seed)
    ratios = sorted(
        median(rng.choices(original, k=len(original)))
        / median(rng.choices(candidate, k=len(candidate)))
        for _ in range(resamples)
    )
    tail = (1 - confidence) / 2
    low = ratios[int(tail * (resamples - 1))]
    high = ratios[int((1 - tail) * (resamples - 1))]
    return median(original) / median(candidate), (low, high)

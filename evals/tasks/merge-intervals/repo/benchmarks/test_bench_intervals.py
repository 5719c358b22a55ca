"""Benchmark: merging a team's meetings over a quarter."""

from __future__ import annotations

import random

from calendarkit.intervals import merge_intervals

N_MEETINGS = 700
MINUTES = 90 * 24 * 60


def make_meetings(n: int = N_MEETINGS, seed: int = 18) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    meetings = []
    for _ in range(n):
        start = rng.randrange(MINUTES)
        meetings.append((start, start + rng.choice([15, 30, 30, 45, 60, 90])))
    return meetings


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return merge_intervals, (make_meetings(),)


def test_bench_merge_intervals(benchmark):
    function, args = bench_case()
    merged = benchmark(function, *args)
    assert 0 < len(merged) <= N_MEETINGS

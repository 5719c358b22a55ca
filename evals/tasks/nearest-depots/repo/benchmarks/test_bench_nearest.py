"""Benchmark: the depots near a customer that a route planner weighs, among a national
network's."""

from __future__ import annotations

import random

from depots.nearest import nearest_depots

N_DEPOTS = 100_000
SPAN = 20_000
CANDIDATES = 250


def make_depots(n: int = N_DEPOTS, seed: int = 51) -> list[tuple[str, int, int]]:
    rng = random.Random(seed)
    return [
        (f"depot-{i:06d}", rng.randrange(-SPAN, SPAN), rng.randrange(-SPAN, SPAN)) for i in range(n)
    ]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return nearest_depots, (make_depots(), 1_234, -5_678, CANDIDATES)


def test_bench_nearest_depots(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == CANDIDATES

"""Benchmark: weekly, monthly and ad-hoc totals over five years of daily sales."""

from __future__ import annotations

import random

from series.ranges import range_totals

N_DAYS = 1_826
N_QUERIES = 700


def make_workload(seed: int = 15) -> tuple[list[int], list[tuple[int, int]]]:
    rng = random.Random(seed)
    sales = [rng.randrange(0, 10_000) for _ in range(N_DAYS)]
    queries = []
    for _ in range(N_QUERIES):
        start = rng.randrange(N_DAYS)
        queries.append((start, rng.randrange(start, N_DAYS + 1)))
    return sales, queries


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return range_totals, make_workload()


def test_bench_range_totals(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_QUERIES

"""Benchmark: a busy machine with thousands of jobs in the run queue."""

from __future__ import annotations

import random

from scheduler.roundrobin import completion_order

N_JOBS = 5_500
QUANTUM = 10


def make_jobs(n: int = N_JOBS, seed: int = 3) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    return [(f"job-{i:05d}", rng.randrange(1, 120)) for i in range(n)]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return completion_order, (make_jobs(), QUANTUM)


def test_bench_completion_order(benchmark):
    function, args = bench_case()
    order = benchmark(function, *args)
    assert sorted(order) == sorted(name for name, _ in args[0])

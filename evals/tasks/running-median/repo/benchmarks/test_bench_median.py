"""Benchmark: running median of a stream of request latencies."""

from __future__ import annotations

import random

from streamstats.median import running_medians

N_VALUES = 1_100


def make_stream(n: int = N_VALUES, seed: int = 13) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.lognormvariate(3.0, 0.7), 3) for _ in range(n)]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return running_medians, (make_stream(),)


def test_bench_running_medians(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_VALUES

"""Benchmark: the mean of a month of per-second readings."""

from __future__ import annotations

import random

from meters.average import mean

N_READINGS = 400_000


def make_readings(n: int = N_READINGS, seed: int = 30) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.0, 500.0) for _ in range(n)]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return mean, (make_readings(),)


def test_bench_mean(benchmark):
    function, args = bench_case()
    assert 200.0 < benchmark(function, *args) < 300.0

"""Benchmark: a latency histogram with fine bins."""

from __future__ import annotations

import random

from histo.binning import histogram

N_VALUES = 8_000
N_BINS = 100


def make_data(seed: int = 29) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    values = [rng.gauss(50.0, 15.0) for _ in range(N_VALUES)]
    edges = [i * 1.0 for i in range(N_BINS + 1)]
    return values, edges


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return histogram, make_data()


def test_bench_histogram(benchmark):
    function, args = bench_case()
    counts = benchmark(function, *args)
    assert len(counts) == N_BINS and 0 < sum(counts) <= N_VALUES

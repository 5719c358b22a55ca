"""Benchmark: peak envelope of a noisy sensor trace."""

from __future__ import annotations

import random

from signals.window import window_maxima

N_SAMPLES = 12_000
WIDTH = 200


def make_trace(n: int = N_SAMPLES, seed: int = 26) -> list[int]:
    rng = random.Random(seed)
    level = 0
    trace = []
    for _ in range(n):
        level += rng.randrange(-50, 51)
        trace.append(level + rng.randrange(-200, 201))
    return trace


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return window_maxima, (make_trace(), WIDTH)


def test_bench_window_maxima(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_SAMPLES - WIDTH + 1

"""Benchmark: the median of a fleet's latency samples, as the servers report them (each
server's batch arrives sorted, so the whole is a concatenation of sorted runs)."""

from __future__ import annotations

import random

from latency.order_stats import median

N_SERVERS = 40
PER_SERVER = 8_000


def make_samples(seed: int = 31) -> list[float]:
    rng = random.Random(seed)
    samples: list[float] = []
    for _ in range(N_SERVERS):
        samples.extend(sorted(round(rng.lognormvariate(3.0, 0.8), 3) for _ in range(PER_SERVER)))
    return samples


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return median, (make_samples(),)


def test_bench_median(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) > 0

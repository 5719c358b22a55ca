"""Benchmark: encoding the rows of a large monochrome bitmap."""

from __future__ import annotations

import random

from rle.codec import encode

N_PIXELS = 300_000


def make_bitmap(n: int = N_PIXELS, seed: int = 20) -> str:
    rng = random.Random(seed)
    parts = []
    size = 0
    while size < n:
        run = rng.choice([1, 2, 3, 5, 8, 13, 40])
        parts.append(rng.choice(".#") * run)
        size += run
    return "".join(parts)


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return encode, (make_bitmap(),)


def test_bench_encode(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) < N_PIXELS

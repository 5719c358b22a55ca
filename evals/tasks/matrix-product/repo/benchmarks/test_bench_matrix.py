"""Benchmark: multiplying two dense 70×70 matrices."""

from __future__ import annotations

import random

from linalg.matrix import matmul

SIZE = 70


def make_matrices(n: int = SIZE, seed: int = 16) -> tuple[list[list[float]], list[list[float]]]:
    rng = random.Random(seed)
    a = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
    b = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
    return a, b


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return matmul, make_matrices()


def test_bench_matmul(benchmark):
    function, args = bench_case()
    product = benchmark(function, *args)
    assert len(product) == SIZE and len(product[0]) == SIZE

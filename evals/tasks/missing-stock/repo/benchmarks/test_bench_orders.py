"""Benchmark: a day's order lines against a large catalogue."""

from __future__ import annotations

import random

from inventory.orders import unknown_items

N_SKUS = 20_000
N_LINES = 200_000


def make_books(seed: int = 7) -> tuple[list[str], dict[str, int], dict[str, int]]:
    rng = random.Random(seed)
    stock = {f"sku-{i:06d}": rng.randrange(0, 50) for i in range(0, N_SKUS, 2)}
    backorders = {f"sku-{i:06d}": rng.randrange(1, 20) for i in range(1, N_SKUS // 2, 2)}
    order = [f"sku-{rng.randrange(int(N_SKUS * 1.2)):06d}" for _ in range(N_LINES)]
    return order, stock, backorders


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return unknown_items, make_books()


def test_bench_unknown_items(benchmark):
    function, args = bench_case()
    missing = benchmark(function, *args)
    assert 0 < len(missing) < N_LINES

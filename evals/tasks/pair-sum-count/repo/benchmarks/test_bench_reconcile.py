"""Benchmark: a month of ledger entries, looking for offsetting pairs."""

from __future__ import annotations

import random

from ledger.reconcile import count_pairs_with_sum

N_ENTRIES = 1_100


def make_entries(n: int = N_ENTRIES, seed: int = 12) -> list[int]:
    rng = random.Random(seed)
    entries = [rng.randrange(-50_000, 50_000) for _ in range(n)]
    for i in range(0, n, 10):
        entries[i] = -entries[i + 1]
    return entries


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return count_pairs_with_sum, (make_entries(), 0)


def test_bench_count_pairs(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) >= N_ENTRIES // 10

"""Benchmark: comparing two rankings of a thousand search results."""

from __future__ import annotations

import random

from rankings.inversions import count_inversions

N_ITEMS = 1_400


def make_ranking(n: int = N_ITEMS, seed: int = 28) -> list[int]:
    rng = random.Random(seed)
    ranking = list(range(n))
    for _ in range(n):  # a mostly similar ranking: random nearby swaps
        i = rng.randrange(n)
        j = min(n - 1, max(0, i + rng.randrange(-40, 41)))
        ranking[i], ranking[j] = ranking[j], ranking[i]
    return ranking


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return count_inversions, (make_ranking(),)


def test_bench_count_inversions(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) > 0

"""Benchmark: distance between two revisions of a paragraph."""

from __future__ import annotations

import random

from fuzzy.distance import levenshtein

LENGTH = 150


def make_pair(n: int = LENGTH, seed: int = 17) -> tuple[str, str]:
    rng = random.Random(seed)
    a = "".join(rng.choice("abcdefghij ") for _ in range(n))
    b = list(a)
    for _ in range(n // 5):
        b[rng.randrange(len(b))] = rng.choice("abcdefghij ")
    return a, "".join(b)


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return levenshtein, make_pair()


def test_bench_levenshtein(benchmark):
    function, args = bench_case()
    assert 0 < benchmark(function, *args) <= LENGTH // 5

"""Benchmark: the most common terms of a batch of documents."""

from __future__ import annotations

import random

from wordstats.frequency import top_words

N_WORDS = 4_000
VOCABULARY = 600


def make_words(n: int = N_WORDS, vocabulary: int = VOCABULARY, seed: int = 21) -> list[str]:
    rng = random.Random(seed)
    terms = [f"term{i}" for i in range(vocabulary)]
    weights = [1 / (rank + 1) for rank in range(vocabulary)]  # Zipf-like
    return rng.choices(terms, weights, k=n)


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return top_words, (make_words(), 25)


def test_bench_top_words(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == 25

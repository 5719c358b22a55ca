"""Benchmark: grouping a word list for a puzzle generator."""

from __future__ import annotations

import random

from wordplay.anagrams import group_anagrams

N_WORDS = 1_800


def make_words(n: int = N_WORDS, seed: int = 27) -> list[str]:
    rng = random.Random(seed)
    stems = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(3, 8)))
        for _ in range(900)
    ]
    words = []
    for _ in range(n):
        letters = list(rng.choice(stems))
        rng.shuffle(letters)
        words.append("".join(letters))
    return words


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return group_anagrams, (make_words(),)


def test_bench_group_anagrams(benchmark):
    function, args = bench_case()
    groups = benchmark(function, *args)
    assert sum(len(g) for g in groups) == N_WORDS

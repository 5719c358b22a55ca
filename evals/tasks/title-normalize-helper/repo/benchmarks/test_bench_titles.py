"""Benchmark: deduplicating the titles of a merged catalogue."""

from __future__ import annotations

import random

from catalog.titles import dedupe_titles

N_TITLES = 3_000
WORDS = [
    "the",
    "a",
    "of",
    "and",
    "night",
    "garden",
    "river",
    "winter",
    "city",
    "house",
    "shadow",
    "light",
    "book",
    "history",
    "secret",
    "king",
    "queen",
    "war",
    "peace",
    "sea",
    "stone",
    "fire",
    "glass",
    "road",
    "letters",
    "summer",
    "island",
    "mountain",
    "year",
    "children",
    "daughter",
    "stranger",
    "wind",
    "silence",
    "empire",
    "world",
    "home",
    "last",
    "first",
    "little",
    "great",
]
ACCENTED = ["café", "école", "naïve", "über", "señor", "crème", "fiancée"]
SUBTITLES = [": A Novel", " (2nd Edition)", " - Vol. 2", "!", ": Stories", ", Revised"]


def make_titles(seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    titles = []
    for _ in range(N_TITLES):
        words = [rng.choice(WORDS) for _ in range(rng.randrange(4, 12))]
        if rng.random() < 0.15:
            words[rng.randrange(len(words))] = rng.choice(ACCENTED)
        title = " ".join(word.capitalize() if rng.random() < 0.6 else word for word in words)
        if rng.random() < 0.6:
            title += rng.choice(SUBTITLES)
        titles.append(title)
    return titles


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return dedupe_titles, (make_titles(),)


def test_bench_dedupe_titles(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) > 0

"""Benchmark: cleaning up a large scraped document."""

from __future__ import annotations

import random

from textclean.spaces import squash_whitespace

N_WORDS = 250_000


def make_document(n: int = N_WORDS, seed: int = 33) -> str:
    rng = random.Random(seed)
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "élit"]
    gaps = [" ", " ", " ", "  ", "\n", "\t", " \n ", "\u00a0", "\r\n"]
    return "".join(rng.choice(words) + rng.choice(gaps) for _ in range(n))


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return squash_whitespace, (make_document(),)


def test_bench_squash_whitespace(benchmark):
    function, args = bench_case()
    out = benchmark(function, *args)
    assert "  " not in out

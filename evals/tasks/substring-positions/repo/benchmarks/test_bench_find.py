"""Benchmark: searching a large log dump for a request id."""

from __future__ import annotations

import random

from textsearch.find import find_all

N_CHARS = 250_000


def make_text(n: int = N_CHARS, seed: int = 14) -> str:
    rng = random.Random(seed)
    words = ["GET", "POST", "/api", "200", "404", "user", "req-4f2a", "req-4f2b", "ok", "\n"]
    parts = []
    size = 0
    while size < n:
        word = rng.choice(words)
        parts.append(word)
        size += len(word) + 1
    return " ".join(parts)


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return find_all, (make_text(), "req-4f2a")


def test_bench_find_all(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) > 100

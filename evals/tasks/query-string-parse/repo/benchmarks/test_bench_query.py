"""Benchmark: a long tracking query string."""

from __future__ import annotations

import random

from webforms.query import parse_query

N_PAIRS = 20_000


def make_query(n: int = N_PAIRS, seed: int = 24) -> str:
    rng = random.Random(seed)
    keys = ["utm_source", "utm_medium", "id", "q", "page", "sort", "filter", "lang", "ref"]
    pairs = []
    for i in range(n):
        key = rng.choice(keys) + (str(i % 50) if rng.random() < 0.5 else "")
        pairs.append(f"{key}={rng.randrange(10**9):x}{'=x' if rng.random() < 0.05 else ''}")
    return "&".join(pairs)


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return parse_query, (make_query(),)


def test_bench_parse_query(benchmark):
    function, args = bench_case()
    parsed = benchmark(function, *args)
    assert sum(len(v) for v in parsed.values()) == N_PAIRS

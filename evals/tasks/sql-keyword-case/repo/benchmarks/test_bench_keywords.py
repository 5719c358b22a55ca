"""Benchmark: casing the tokens of a large generated query log."""

from __future__ import annotations

import random

from sqlfmt.keywords import uppercase_keywords

N_TOKENS = 30_000
_KEYWORDS = ["select", "from", "where", "and", "join", "on", "group", "by", "order", "limit"]
_OTHER = ["users", "u.id", "orders", "o.total", "=", ">", "(", ")", ",", "42", "'paid'", "count"]


def make_tokens(n: int = N_TOKENS, seed: int = 6) -> list[str]:
    rng = random.Random(seed)
    tokens = []
    for _ in range(n):
        if rng.random() < 0.25:
            word = rng.choice(_KEYWORDS)
            tokens.append(word.upper() if rng.random() < 0.3 else word)
        else:
            tokens.append(
                rng.choice(_OTHER) + (str(rng.randrange(100)) if rng.random() < 0.5 else "")
            )
    return tokens


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return uppercase_keywords, (make_tokens(),)


def test_bench_uppercase_keywords(benchmark):
    function, args = bench_case()
    out = benchmark(function, *args)
    assert len(out) == N_TOKENS

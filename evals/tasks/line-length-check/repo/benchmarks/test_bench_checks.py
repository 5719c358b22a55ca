"""Benchmark: a pre-commit check on a big generated file whose long line comes early."""

from __future__ import annotations

import random

from lintkit.checks import within_line_limit

N_LINES = 250_000
LIMIT = 99


def make_source(n: int = N_LINES, seed: int = 9) -> list[str]:
    rng = random.Random(seed)
    words = ["value", "result", "self", "return", "for", "in", "range", "items", "=", "+"]
    lines = [
        "    " * rng.randrange(4) + " ".join(rng.choice(words) for _ in range(rng.randrange(3, 12)))
        for _ in range(n)
    ]
    lines[300] = "x = " + "'padding' + " * 12 + "''"  # 150 characters
    return lines


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return within_line_limit, (make_source(), LIMIT)


def test_bench_within_line_limit(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) is False

"""Benchmark: a busy thread checked against a long block list."""

from __future__ import annotations

import random

from moderation.filters import visible_comments

N_COMMENTS = 4_000
N_AUTHORS = 3_000
N_BLOCKED = 500


def make_thread(seed: int = 5) -> tuple[list[tuple[str, str]], list[str]]:
    rng = random.Random(seed)
    authors = [f"user_{rng.randrange(10**8):08d}" for _ in range(N_AUTHORS)]
    comments = [
        (rng.choice(authors), f"comment {i} about item {rng.randrange(500)}")
        for i in range(N_COMMENTS)
    ]
    blocked = rng.sample(authors, N_BLOCKED // 2) + [f"gone_{i}" for i in range(N_BLOCKED // 2)]
    rng.shuffle(blocked)
    return comments, blocked


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return visible_comments, make_thread()


def test_bench_visible_comments(benchmark):
    function, args = bench_case()
    visible = benchmark(function, *args)
    assert 0 < len(visible) < N_COMMENTS

"""Benchmark: the global leaderboard of a mid-sized game."""

from __future__ import annotations

import random

from arena.board import leaderboard

N_PLAYERS = 120_000


def make_ratings(n: int = N_PLAYERS, seed: int = 32) -> list[tuple[str, float]]:
    rng = random.Random(seed)
    return [(f"player{i:06d}", round(rng.gauss(1500.0, 300.0), 2)) for i in range(n)]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return leaderboard, (make_ratings(),)


def test_bench_leaderboard(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_PLAYERS

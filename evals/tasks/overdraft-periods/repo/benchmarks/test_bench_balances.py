"""Benchmark: a seasonal business's account, over a long history of transactions."""

from __future__ import annotations

import math
import random

from ledgerkit.balances import overdraft_periods

N_TRANSACTIONS = 200_000
SEASON = 250  # transactions from one busy season to the next
SWING = 1_000
NOISE = 50


def make_transactions(n: int = N_TRANSACTIONS, seed: int = 41) -> list[int]:
    rng = random.Random(seed)
    return [
        round(SWING * math.cos(2 * math.pi * i / SEASON)) + rng.randrange(-NOISE, NOISE + 1)
        for i in range(n)
    ]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return overdraft_periods, (-5_000, make_transactions())


def test_bench_overdraft_periods(benchmark):
    function, args = bench_case()
    periods = benchmark(function, *args)
    assert 0 < len(periods) <= N_TRANSACTIONS

"""Balances of an account, in cents."""

from __future__ import annotations

from itertools import accumulate


def overdraft_periods(opening: int, transactions: list[int]) -> list[tuple[int, int]]:
    """The periods the account spent overdrawn, in order.

    ``transactions`` are amounts applied in order to the ``opening`` balance. A period is a run
    of transactions, each leaving the balance below zero, given as ``(first, count)``: the index
    of its first transaction and how many it spans. The opening balance alone makes none.
    """
    balances = list(accumulate(transactions, initial=opening))[1:]
    overdrawn = [balance < 0 for balance in balances]
    periods = []
    start = None
    for index, flag in enumerate(overdrawn):
        if flag:
            if start is None:
                start = index
        elif start is not None:
            periods.append((start, index - start))
            start = None
    if start is not None:
        periods.append((start, len(overdrawn) - start))
    return periods

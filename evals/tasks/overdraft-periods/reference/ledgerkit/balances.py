"""Balances of an account, in cents."""

from __future__ import annotations

from itertools import accumulate


def overdraft_periods(opening: int, transactions: list[int]) -> list[tuple[int, int]]:
    """The periods the account spent overdrawn, in order.

    ``transactions`` are amounts applied in order to the ``opening`` balance. A period is a run
    of transactions, each leaving the balance below zero, given as ``(first, count)``: the index
    of its first transaction and how many it spans. The opening balance alone makes none.
    """
    # One pass over the running balance: neither every balance nor a flag per balance is kept.
    balances = accumulate(transactions, initial=opening)
    next(balances)  # the opening balance
    periods = []
    start = None
    count = 0
    for index, balance in enumerate(balances):
        if balance < 0:
            if start is None:
                start = index
        elif start is not None:
            periods.append((start, index - start))
            start = None
        count = index + 1
    if start is not None:
        periods.append((start, count - start))
    return periods

"""Reconciliation: finding entries that offset each other."""

from __future__ import annotations


def count_pairs_with_sum(amounts: list[int], target: int) -> int:
    """How many pairs of entries (by position, ``i < j``) add up to ``target`` cents.

    With ``target == 0`` this counts the pairs of entries that cancel out.
    """
    # One pass: each entry pairs with every earlier entry equal to ``target - entry``.
    seen: dict[int, int] = {}
    count = 0
    for amount in amounts:
        count += seen.get(target - amount, 0)
        seen[amount] = seen.get(amount, 0) + 1
    return count

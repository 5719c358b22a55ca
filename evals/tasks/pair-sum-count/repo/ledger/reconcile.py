"""Reconciliation: finding entries that offset each other."""

from __future__ import annotations


def count_pairs_with_sum(amounts: list[int], target: int) -> int:
    """How many pairs of entries (by position, ``i < j``) add up to ``target`` cents.

    With ``target == 0`` this counts the pairs of entries that cancel out.
    """
    count = 0
    n = len(amounts)
    for i in range(n):
        for j in range(i + 1, n):
            if amounts[i] + amounts[j] == target:
                count += 1
    return count

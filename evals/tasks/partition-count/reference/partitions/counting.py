"""Counting integer partitions, used to size the search space of a bin-packing heuristic."""

from __future__ import annotations


def count_partitions(total: int, largest: int) -> int:
    """How many ways ``total`` can be written as a sum of positive parts of at most ``largest``.

    The order of the parts does not matter (``3 = 2 + 1 = 1 + 2`` counts once). ``total == 0``
    has exactly one partition (the empty sum), whatever ``largest`` is; a negative ``total``, or
    a positive one with ``largest <= 0``, has none.
    """
    if total == 0:
        return 1
    if total < 0 or largest <= 0:
        return 0
    # Bottom-up: ways[t] counts the partitions of t into the parts seen so far. Parts larger
    # than ``total`` cannot be used, so they change nothing.
    ways = [1] + [0] * total
    for part in range(1, min(largest, total) + 1):
        for t in range(part, total + 1):
            ways[t] += ways[t - part]
    return ways[total]


def count_all_partitions(total: int) -> int:
    """The partition number p(total): partitions with parts of any size."""
    return count_partitions(total, total)

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
    return count_partitions(total - largest, largest) + count_partitions(total, largest - 1)


def count_all_partitions(total: int) -> int:
    """The partition number p(total): partitions with parts of any size."""
    return count_partitions(total, total)

"""Finding every occurrence of a literal pattern."""

from __future__ import annotations


def find_all(text: str, pattern: str) -> list[int]:
    """Start offsets of every occurrence of ``pattern`` in ``text``, overlapping ones included
    (``find_all("aaaa", "aa") == [0, 1, 2]``), in increasing order.

    The empty pattern occurs at every offset from 0 to ``len(text)``.
    """
    if len(pattern) == 0:
        return list(range(len(text) + 1))
    # str.find scans in C; restarting one past each hit keeps overlapping occurrences.
    find = text.find
    positions = []
    start = find(pattern)
    while start != -1:
        positions.append(start)
        start = find(pattern, start + 1)
    return positions

"""Finding every occurrence of a literal pattern."""

from __future__ import annotations


def find_all(text: str, pattern: str) -> list[int]:
    """Start offsets of every occurrence of ``pattern`` in ``text``, overlapping ones included
    (``find_all("aaaa", "aa") == [0, 1, 2]``), in increasing order.

    The empty pattern occurs at every offset from 0 to ``len(text)``.
    """
    width = len(pattern)
    positions = []
    for start in range(len(text) - width + 1):
        if text[start : start + width] == pattern:
            positions.append(start)
    return positions

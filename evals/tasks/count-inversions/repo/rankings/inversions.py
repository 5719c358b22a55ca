"""How far a ranking is from sorted."""

from __future__ import annotations


def count_inversions(values: list[int]) -> int:
    """The number of pairs ``i < j`` with ``values[i] > values[j]`` (equal values are not an
    inversion). 0 for a sorted list, ``n * (n - 1) // 2`` for a strictly decreasing one."""
    inversions = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] > values[j]:
                inversions += 1
    return inversions


def kendall_distance(a: list[int], b: list[int]) -> int:
    """Kendall tau distance between two rankings of the same items (``a`` and ``b`` list item
    ids best first): the number of item pairs the two rankings order differently."""
    position = {item: rank for rank, item in enumerate(b)}
    return count_inversions([position[item] for item in a])

"""Finding depots on a city grid, where distance is counted in blocks."""

from __future__ import annotations


def nearest_depots(depots: list[tuple[str, int, int]], x: int, y: int, k: int) -> list[str]:
    """The names of the ``k`` depots nearest to the block ``(x, y)``, nearest first.

    ``depots`` holds ``(name, x, y)`` positions; the distance to one is ``|dx| + |dy|``.
    Depots equally far keep their order in ``depots``; with fewer than ``k`` depots, all of
    them. Raises ``ValueError`` for a negative ``k``.
    """
    if k < 0:
        raise ValueError(f"k must not be negative, got {k}")
    ranked = sorted(depots, key=lambda depot: abs(depot[1] - x) + abs(depot[2] - y))
    return [name for name, _, _ in ranked[:k]]

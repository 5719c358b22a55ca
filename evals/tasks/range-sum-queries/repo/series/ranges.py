"""Totals over ranges of a daily series."""

from __future__ import annotations


def range_totals(values: list[int], queries: list[tuple[int, int]]) -> list[int]:
    """For each ``(start, stop)`` query, the total of ``values[start:stop]``.

    Ranges are half-open and must satisfy ``0 <= start <= stop <= len(values)``; the first
    query that does not raises ``ValueError`` naming it.
    """
    totals = []
    for start, stop in queries:
        if not 0 <= start <= stop <= len(values):
            raise ValueError(f"bad range ({start}, {stop}) for {len(values)} values")
        total = 0
        for index in range(start, stop):
            total += values[index]
        totals.append(total)
    return totals

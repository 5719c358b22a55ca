"""Totals over ranges of a daily series."""

from __future__ import annotations

from itertools import accumulate


def range_totals(values: list[int], queries: list[tuple[int, int]]) -> list[int]:
    """For each ``(start, stop)`` query, the total of ``values[start:stop]``.

    Ranges are half-open and must satisfy ``0 <= start <= stop <= len(values)``; the first
    query that does not raises ``ValueError`` naming it.
    """
    # Prefix sums once (prefix[i] is the total of values[:i]); each query is then O(1).
    count = len(values)
    prefix = [0, *accumulate(values)]
    totals = []
    for start, stop in queries:
        if not 0 <= start <= stop <= count:
            raise ValueError(f"bad range ({start}, {stop}) for {count} values")
        totals.append(prefix[stop] - prefix[start])
    return totals

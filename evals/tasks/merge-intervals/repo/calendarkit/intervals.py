"""Busy periods in a calendar, as ``(start, end)`` minute offsets."""

from __future__ import annotations


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of closed intervals ``[start, end]`` as disjoint intervals, sorted by start.

    Intervals that overlap or touch (``(1, 3)`` and ``(3, 5)``) merge into one. Raises
    ``ValueError`` for the first interval whose end comes before its start.
    """
    merged: list[tuple[int, int]] = []
    for start, end in intervals:
        if end < start:
            raise ValueError(f"interval ({start}, {end}) ends before it starts")
        merged.append((start, end))
    i = 0
    while i < len(merged):
        j = i + 1
        while j < len(merged):
            (s1, e1), (s2, e2) = merged[i], merged[j]
            if s1 <= e2 and s2 <= e1:
                merged[i] = (min(s1, s2), max(e1, e2))
                del merged[j]
                j = i + 1  # the grown interval may now reach earlier ones
            else:
                j += 1
        i += 1
    return sorted(merged)


def total_busy(intervals: list[tuple[int, int]]) -> int:
    """Minutes covered by at least one interval."""
    return sum(end - start for start, end in merge_intervals(intervals))

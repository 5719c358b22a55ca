"""Busy periods in a calendar, as ``(start, end)`` minute offsets."""

from __future__ import annotations


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of closed intervals ``[start, end]`` as disjoint intervals, sorted by start.

    Intervals that overlap or touch (``(1, 3)`` and ``(3, 5)``) merge into one. Raises
    ``ValueError`` for the first interval whose end comes before its start.
    """
    for start, end in intervals:
        if end < start:
            raise ValueError(f"interval ({start}, {end}) ends before it starts")
    # Sort once, then sweep: each interval either extends the last merged one or starts anew.
    merged: list[tuple[int, int]] = []
    last_start = last_end = 0
    for start, end in sorted(intervals):
        if merged and start <= last_end:
            if end > last_end:
                last_end = end
                merged[-1] = (last_start, last_end)
        else:
            last_start, last_end = start, end
            merged.append((start, end))
    return merged


def total_busy(intervals: list[tuple[int, int]]) -> int:
    """Minutes covered by at least one interval."""
    return sum(end - start for start, end in merge_intervals(intervals))

"""Medians of a growing stream of measurements."""

from __future__ import annotations

from bisect import insort


def running_medians(values: list[float]) -> list[float]:
    """The median of ``values[:1]``, ``values[:2]``, … ``values[:n]``, one per prefix.

    For an even count the median is the mean of the two middle values.
    """
    # Keep the prefix sorted as it grows (binary search + one memmove per value) instead of
    # sorting every prefix from scratch.
    medians = []
    window: list[float] = []
    for end, value in enumerate(values, 1):
        insort(window, value)
        middle = end // 2
        if end % 2:
            medians.append(window[middle])
        else:
            medians.append((window[middle - 1] + window[middle]) / 2)
    return medians

"""Medians of a growing stream of measurements."""

from __future__ import annotations


def running_medians(values: list[float]) -> list[float]:
    """The median of ``values[:1]``, ``values[:2]``, … ``values[:n]``, one per prefix.

    For an even count the median is the mean of the two middle values.
    """
    medians = []
    for end in range(1, len(values) + 1):
        window = sorted(values[:end])
        middle = end // 2
        if end % 2:
            medians.append(window[middle])
        else:
            medians.append((window[middle - 1] + window[middle]) / 2)
    return medians

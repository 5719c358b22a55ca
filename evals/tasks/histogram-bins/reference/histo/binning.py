"""Counting measurements into bins."""

from __future__ import annotations

from bisect import bisect_right


def histogram(values: list[float], edges: list[float]) -> list[int]:
    """How many values fall in each bin ``[edges[i], edges[i + 1])``; the last bin also takes
    values equal to ``edges[-1]`` (as numpy does). Values outside ``[edges[0], edges[-1]]``
    (and NaN) are not counted.

    Raises ``ValueError`` unless there are at least two edges, strictly increasing.
    """
    if len(edges) < 2:
        raise ValueError("need at least two edges")
    for left, right in zip(edges, edges[1:]):
        if not left < right:
            raise ValueError(f"edges must be strictly increasing: {left!r} then {right!r}")
    # Binary search for each value's bin instead of trying the bins one by one.
    counts = [0] * (len(edges) - 1)
    low, high = edges[0], edges[-1]
    last = len(edges) - 2
    for value in values:
        if low <= value < high:
            counts[bisect_right(edges, value) - 1] += 1
        elif value == high:
            counts[last] += 1
    return counts

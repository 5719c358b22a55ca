"""Counting measurements into bins."""

from __future__ import annotations


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
    counts = [0] * (len(edges) - 1)
    last = len(edges) - 2
    for value in values:
        for i in range(len(edges) - 1):
            if edges[i] <= value < edges[i + 1] or (i == last and value == edges[-1]):
                counts[i] += 1
                break
    return counts

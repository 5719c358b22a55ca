"""Order statistics of latency samples."""

from __future__ import annotations


def median(samples: list[float]) -> float:
    """The median of ``samples`` (the mean of the two middle values for an even count).

    The caller's list is left as it was. Raises ``ValueError`` for no samples.
    """
    if not samples:
        raise ValueError("median of no samples")
    ordered = sorted(samples)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2

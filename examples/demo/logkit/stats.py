"""Latency statistics."""

from __future__ import annotations


def fastest(latencies: list[float]) -> float:
    """The smallest latency, in the same unit as the input.

    Raises ``ValueError`` for an empty list.
    """
    if not latencies:
        raise ValueError("no latencies")
    return sorted(latencies)[0]


def slowest(latencies: list[float]) -> float:
    """The largest latency, in the same unit as the input.

    Raises ``ValueError`` for an empty list.
    """
    if not latencies:
        raise ValueError("no latencies")
    return sorted(latencies)[-1]

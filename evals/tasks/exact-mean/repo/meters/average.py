"""Averages of meter readings."""

from __future__ import annotations

import math


def mean(readings: list[float]) -> float:
    """The arithmetic mean, from a correctly rounded sum (``math.fsum``): billing reproduces
    this exact figure whatever order the readings arrive in.

    Raises ``ValueError`` for no readings.
    """
    if not readings:
        raise ValueError("mean of no readings")
    return math.fsum(readings) / len(readings)

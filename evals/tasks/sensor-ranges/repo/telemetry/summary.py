"""Summaries of raw sensor readings."""

from __future__ import annotations


def sensor_ranges(readings: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    """``(lowest, highest)`` reading of each sensor, in the order of ``readings``.

    Sensors that reported nothing are left out.
    """
    ranges = {}
    for sensor, values in readings.items():
        if values:
            ranges[sensor] = (sorted(values)[0], sorted(values)[-1])
    return ranges

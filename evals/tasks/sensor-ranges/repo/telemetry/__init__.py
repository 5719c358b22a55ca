"""Telemetry summaries."""

from telemetry.summary import sensor_ranges

__all__ = ["sensor_ranges"]

"""Meter readings aggregation."""

from meters.average import mean

__all__ = ["mean"]

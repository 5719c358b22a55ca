"""Time-series aggregation."""

from series.ranges import range_totals

__all__ = ["range_totals"]

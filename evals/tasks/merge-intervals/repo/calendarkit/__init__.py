"""Calendar arithmetic."""

from calendarkit.intervals import merge_intervals, total_busy

__all__ = ["merge_intervals", "total_busy"]

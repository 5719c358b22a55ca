"""Statistics over streams of measurements."""

from streamstats.median import running_medians

__all__ = ["running_medians"]

"""Signal processing on integer samples."""

from signals.window import window_maxima

__all__ = ["window_maxima"]

"""Windowed statistics over integer samples."""

from __future__ import annotations


def window_maxima(samples: list[int], width: int) -> list[int]:
    """The maximum of every window of ``width`` consecutive samples, left to right.

    There are ``len(samples) - width + 1`` windows (none when ``width`` exceeds the number
    of samples). Raises ``ValueError`` unless ``width`` is positive.
    """
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    return [max(samples[start : start + width]) for start in range(len(samples) - width + 1)]

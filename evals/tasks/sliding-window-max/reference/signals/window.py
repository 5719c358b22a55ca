"""Windowed statistics over integer samples."""

from __future__ import annotations

from collections import deque


def window_maxima(samples: list[int], width: int) -> list[int]:
    """The maximum of every window of ``width`` consecutive samples, left to right.

    There are ``len(samples) - width + 1`` windows (none when ``width`` exceeds the number
    of samples). Raises ``ValueError`` unless ``width`` is positive.
    """
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    # A monotonic deque of indexes whose samples decrease: the front is the current window's
    # maximum; each index enters and leaves once, so O(n) instead of O(n * width).
    maxima: list[int] = []
    if width > len(samples):
        return maxima
    candidates: deque[int] = deque()
    for index, sample in enumerate(samples):
        while candidates and samples[candidates[-1]] < sample:
            candidates.pop()
        candidates.append(index)
        if candidates[0] <= index - width:
            candidates.popleft()
        if index >= width - 1:
            maxima.append(samples[candidates[0]])
    return maxima

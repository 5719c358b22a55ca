"""Request ids: how many of them were answered."""

from __future__ import annotations


def answered(failed: set[int], last: int) -> int:
    """How many of the request ids ``1..last`` are not in ``failed``."""
    count = 0
    for request_id in list(range(1, last + 1)):
        if request_id not in failed:
            count += 1
    return count

"""Error detection in raw log lines."""

from __future__ import annotations


def has_errors(lines: list[str]) -> bool:
    """Whether any line carries the ``ERROR`` level (as a whole, space-delimited token)."""
    return any([" ERROR " in line for line in lines])

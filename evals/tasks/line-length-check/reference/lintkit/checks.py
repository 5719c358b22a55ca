"""Style checks over the lines of a file (as ``str.splitlines()`` gives them, no line endings)."""

from __future__ import annotations


def within_line_limit(lines: list[str], limit: int) -> bool:
    """Whether every line is at most ``limit`` characters long."""
    # A generator stops at the first long line instead of measuring the whole file first.
    return all(len(line) <= limit for line in lines)


def long_lines(lines: list[str], limit: int) -> list[int]:
    """The 1-based numbers of the lines longer than ``limit`` characters."""
    return [n for n, line in enumerate(lines, 1) if len(line) > limit]

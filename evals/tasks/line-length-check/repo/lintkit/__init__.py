"""Tiny style checks for text files."""

from lintkit.checks import long_lines, within_line_limit

__all__ = ["long_lines", "within_line_limit"]

"""Plain-text search utilities."""

from textsearch.find import find_all

__all__ = ["find_all"]

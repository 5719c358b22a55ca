"""Fuzzy string matching."""

from fuzzy.distance import levenshtein

__all__ = ["levenshtein"]

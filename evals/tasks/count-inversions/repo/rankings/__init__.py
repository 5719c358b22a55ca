"""Comparing rankings."""

from rankings.inversions import count_inversions, kendall_distance

__all__ = ["count_inversions", "kendall_distance"]

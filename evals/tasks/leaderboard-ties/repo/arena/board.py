"""Leaderboards."""

from __future__ import annotations

from operator import itemgetter


def leaderboard(ratings: list[tuple[str, float]]) -> list[str]:
    """Player names by rating, highest first; players with equal ratings keep the order they
    have in ``ratings`` (which is sign-up order, the documented tie-break)."""
    return list(map(itemgetter(0), sorted(ratings, key=itemgetter(1), reverse=True)))

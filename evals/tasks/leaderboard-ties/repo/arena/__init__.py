"""Game leaderboards."""

from arena.board import leaderboard

__all__ = ["leaderboard"]

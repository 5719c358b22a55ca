"""Comment moderation helpers."""

from moderation.filters import visible_comments

__all__ = ["visible_comments"]

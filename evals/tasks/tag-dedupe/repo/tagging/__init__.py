"""Normalising user-supplied tags."""

from tagging.tags import normalise, unique_tags

__all__ = ["normalise", "unique_tags"]

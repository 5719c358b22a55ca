"""Text clean-up for indexing."""

from textclean.spaces import squash_whitespace

__all__ = ["squash_whitespace"]

"""Word games."""

from wordplay.anagrams import group_anagrams

__all__ = ["group_anagrams"]

"""Helpers for the free-text part of log messages."""

from __future__ import annotations


def remove_stopwords(words: list[str]) -> list[str]:
    """Drop common English filler words, keeping the rest in their original order.

    The comparison ignores case (``"The"`` is a stopword too) but the kept words are
    returned exactly as they were given.
    """
    kept: list[str] = []
    for word in words:
        if word.lower() not in [
            "the", "a", "an", "and", "or", "but", "of", "to", "in", "on",
            "at", "by", "for", "with", "from", "is", "are", "was", "were", "be",
            "been", "it", "this", "that", "as", "not", "no", "into", "then", "than",
        ]:
            kept.append(word)
    return kept

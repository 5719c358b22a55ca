"""Word frequencies."""

from __future__ import annotations


def top_words(words: list[str], k: int) -> list[tuple[str, int]]:
    """The ``k`` most frequent words with their counts, most frequent first.

    Words with the same count come in the order they first appear in ``words``. Fewer than
    ``k`` pairs come back when there are fewer distinct words. Raises ``ValueError`` for a
    negative ``k``.
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    distinct = sorted(set(words), key=words.index)  # in order of first appearance
    counts = [(word, words.count(word)) for word in distinct]
    counts.sort(key=lambda pair: pair[1], reverse=True)
    return counts[:k]

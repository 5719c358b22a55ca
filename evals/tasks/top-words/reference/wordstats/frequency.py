"""Word frequencies."""

from __future__ import annotations

from collections import Counter


def top_words(words: list[str], k: int) -> list[tuple[str, int]]:
    """The ``k`` most frequent words with their counts, most frequent first.

    Words with the same count come in the order they first appear in ``words``. Fewer than
    ``k`` pairs come back when there are fewer distinct words. Raises ``ValueError`` for a
    negative ``k``.
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    # One counting pass; a Counter keeps first-appearance order, and most_common sorts
    # stably by count, so ties keep that order.
    return Counter(words).most_common(k)

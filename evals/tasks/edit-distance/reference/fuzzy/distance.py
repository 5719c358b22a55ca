"""String distances for fuzzy matching."""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """The edit distance between ``a`` and ``b``: the fewest single-character insertions,
    deletions and substitutions that turn one into the other."""
    # Two rolling rows of lists instead of a dict keyed by (i, j) tuples: no tuple per cell,
    # no hashing, and O(len(b)) memory. The shorter string goes along the row.
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        left = i
        for j, char_b in enumerate(b, 1):
            diagonal = previous[j - 1] + (char_a != char_b)
            above = previous[j] + 1
            left = left + 1
            if above < left:
                left = above
            if diagonal < left:
                left = diagonal
            current.append(left)
        previous = current
    return previous[-1]

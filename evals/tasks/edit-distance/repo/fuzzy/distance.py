"""String distances for fuzzy matching."""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """The edit distance between ``a`` and ``b``: the fewest single-character insertions,
    deletions and substitutions that turn one into the other."""
    table: dict[tuple[int, int], int] = {}
    for i in range(len(a) + 1):
        table[i, 0] = i
    for j in range(len(b) + 1):
        table[0, j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            table[i, j] = min(
                table[i - 1, j] + 1,  # delete a[i - 1]
                table[i, j - 1] + 1,  # insert b[j - 1]
                table[i - 1, j - 1] + cost,  # substitute (or keep)
            )
    return table[len(a), len(b)]

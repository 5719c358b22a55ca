"""DNA sequences as strings of IUPAC letters (upper or lower case)."""

from __future__ import annotations

COMPLEMENT = {
    "A": "T", "T": "A", "C": "G", "G": "C", "N": "N",
    "a": "t", "t": "a", "c": "g", "g": "c", "n": "n",
}  # fmt: skip


def reverse_complement(sequence: str) -> str:
    """The reverse complement of ``sequence`` (``"AACG"`` → ``"CGTT"``), case preserved.

    Raises ``KeyError`` with the first letter (reading left to right) that is not one of
    ``ACGTN`` / ``acgtn``.
    """
    result = ""
    for base in sequence:
        result = COMPLEMENT[base] + result
    return result


def gc_content(sequence: str) -> float:
    """The fraction of G and C letters (either case); 0.0 for an empty sequence."""
    if not sequence:
        return 0.0
    return sum(1 for base in sequence if base in "GCgc") / len(sequence)

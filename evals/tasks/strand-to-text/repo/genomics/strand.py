"""DNA strands as lists of typed nucleotides."""

from __future__ import annotations

from enum import Enum


class Nucleotide(str, Enum):
    """A DNA base; being a ``str``, it concatenates like its one-letter code."""

    A = "A"
    C = "C"
    G = "G"
    T = "T"

    @property
    def complement(self) -> Nucleotide:
        return _COMPLEMENT[self]


_COMPLEMENT = {
    Nucleotide.A: Nucleotide.T,
    Nucleotide.T: Nucleotide.A,
    Nucleotide.C: Nucleotide.G,
    Nucleotide.G: Nucleotide.C,
}


def parse_strand(text: str) -> list[Nucleotide]:
    """The nucleotides of a one-letter text (``"ACGT"``); raises ``ValueError`` on other letters."""
    return [Nucleotide(letter) for letter in text]


def strand_to_text(strand: list[Nucleotide]) -> str:
    """The one-letter text of a strand, as a plain ``str`` (``[A, C, G]`` → ``"ACG"``)."""
    text = ""
    for base in strand:
        text += base
    return text

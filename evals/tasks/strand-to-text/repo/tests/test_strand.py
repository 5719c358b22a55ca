import pytest

from genomics import Nucleotide, parse_strand, strand_to_text


def test_round_trip():
    assert strand_to_text(parse_strand("GATTACA")) == "GATTACA"


def test_plain_str():
    text = strand_to_text([Nucleotide.A, Nucleotide.C])
    assert text == "AC" and type(text) is str


def test_empty():
    assert strand_to_text([]) == ""


def test_complement():
    assert strand_to_text([b.complement for b in parse_strand("ACGT")]) == "TGCA"


def test_bad_letter():
    with pytest.raises(ValueError):
        parse_strand("ACGU")

import random

from genomics import Nucleotide, parse_strand, strand_to_text


def test_single_base():
    for base in Nucleotide:
        text = strand_to_text([base])
        assert text == base.value
        assert type(text) is str


def test_result_is_exactly_str_not_enum():
    text = strand_to_text(parse_strand("GGCC"))
    assert type(text) is str
    assert not isinstance(text, Nucleotide)
    assert text == "GGCC"


def test_empty_is_empty_str():
    text = strand_to_text([])
    assert text == "" and type(text) is str


def test_long_random_round_trip():
    rng = random.Random(1)
    letters = "".join(rng.choice("ACGT") for _ in range(50_000))
    assert strand_to_text(parse_strand(letters)) == letters


def test_input_not_modified():
    strand = parse_strand("ACGT")
    snapshot = list(strand)
    strand_to_text(strand)
    assert strand == snapshot


def test_repeated_bases():
    assert strand_to_text([Nucleotide.T] * 1000) == "T" * 1000

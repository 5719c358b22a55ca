import random

import pytest

from seqtools import COMPLEMENT, reverse_complement


def test_single_bases():
    for base, complement in COMPLEMENT.items():
        assert reverse_complement(base) == complement


def test_involution():
    rng = random.Random(3)
    for _ in range(50):
        seq = "".join(rng.choice("ACGTNacgtn") for _ in range(rng.randrange(0, 200)))
        assert reverse_complement(reverse_complement(seq)) == seq


def test_palindrome():
    assert reverse_complement("GAATTC") == "GAATTC"


@pytest.mark.parametrize(
    ("sequence", "bad"),
    [
        ("ACGU", "U"),
        ("xACG", "x"),
        ("AC GT", " "),
        ("ACG\n", "\n"),
        ("ACGé", "é"),
        ("UX", "U"),
        ("ac-gt", "-"),
    ],
)
def test_first_bad_letter_is_reported(sequence, bad):
    with pytest.raises(KeyError) as raised:
        reverse_complement(sequence)
    assert raised.value.args == (bad,)


def test_bad_letter_reported_left_to_right():
    with pytest.raises(KeyError) as raised:
        reverse_complement("AAZAAY")
    assert raised.value.args == ("Z",)


def test_iupac_ambiguity_codes_are_not_supported():
    with pytest.raises(KeyError):
        reverse_complement("ACGR")


def test_result_is_str():
    assert type(reverse_complement("A")) is str
    assert type(reverse_complement("")) is str


def test_long():
    seq = "ACGTN" * 20_000
    assert reverse_complement(seq) == "NACGT" * 20_000

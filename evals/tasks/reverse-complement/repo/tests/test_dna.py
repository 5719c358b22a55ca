import pytest

from seqtools import gc_content, reverse_complement


def test_reverse_complement():
    assert reverse_complement("AACG") == "CGTT"
    assert reverse_complement("GATTACA") == "TGTAATC"


def test_case_preserved():
    assert reverse_complement("acgN") == "Ncgt"


def test_empty():
    assert reverse_complement("") == ""


def test_bad_base():
    with pytest.raises(KeyError):
        reverse_complement("ACGU")


def test_gc_content():
    assert gc_content("GGCA") == 0.75

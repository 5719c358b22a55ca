import pytest

from wordstats import top_words


def test_top_words():
    words = "the cat and the dog and the bird".split()
    assert top_words(words, 2) == [("the", 3), ("and", 2)]


def test_ties_in_first_appearance_order():
    assert top_words(["b", "a", "c"], 3) == [("b", 1), ("a", 1), ("c", 1)]


def test_k_larger_than_vocabulary():
    assert top_words(["x", "x"], 5) == [("x", 2)]


def test_negative_k():
    with pytest.raises(ValueError):
        top_words(["x"], -1)

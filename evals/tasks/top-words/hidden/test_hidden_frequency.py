import random

import pytest

from wordstats import top_words


def expected(words, k):
    order = {}
    for w in words:
        order.setdefault(w, len(order))
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts.items(), key=lambda p: (-p[1], order[p[0]]))
    return ranked[:k]


def test_k_zero():
    assert top_words(["a", "b"], 0) == []


def test_empty_words():
    assert top_words([], 3) == []
    assert top_words([], 0) == []


@pytest.mark.parametrize("k", [-1, -5])
def test_negative_k_message(k):
    with pytest.raises(ValueError, match=f"^k must be non-negative, got {k}$"):
        top_words(["a"], k)


def test_negative_k_raises_even_for_empty_input():
    with pytest.raises(ValueError):
        top_words([], -1)


def test_tie_order_is_first_appearance_not_alphabetical():
    words = ["zeta", "alpha", "zeta", "alpha", "mid", "beta", "mid"]
    assert top_words(words, 4) == [("zeta", 2), ("alpha", 2), ("mid", 2), ("beta", 1)]


def test_case_and_unicode_distinct():
    words = ["Ä", "ä", "ä", "A\u0308"]
    assert top_words(words, 3) == [("ä", 2), ("Ä", 1), ("A\u0308", 1)]


def test_empty_string_is_a_word():
    assert top_words(["", "", "x"], 1) == [("", 2)]


def test_input_not_modified():
    words = ["b", "a", "b"]
    top_words(words, 1)
    assert words == ["b", "a", "b"]


def test_random_against_expected():
    rng = random.Random(13)
    for _ in range(200):
        words = [rng.choice("abcdefg") for _ in range(rng.randrange(0, 60))]
        k = rng.randrange(0, 10)
        assert top_words(words, k) == expected(words, k)


def test_counts_are_ints_and_pairs_are_tuples():
    out = top_words(["a", "a", "b"], 2)
    assert all(type(p) is tuple and type(p[1]) is int for p in out)

import random

import pytest

from textsearch import find_all


def naive(text, pattern):
    return [i for i in range(len(text) - len(pattern) + 1) if text.startswith(pattern, i)]


def test_empty_pattern_matches_everywhere():
    assert find_all("abc", "") == [0, 1, 2, 3]
    assert find_all("", "") == [0]


def test_empty_text():
    assert find_all("", "a") == []


def test_pattern_longer_than_text():
    assert find_all("ab", "abc") == []


def test_whole_text():
    assert find_all("abc", "abc") == [0]


def test_overlaps_of_periodic_patterns():
    assert find_all("abababa", "aba") == [0, 2, 4]
    assert find_all("a" * 10, "aaa") == list(range(8))


def test_unicode():
    assert find_all("日本語の日本", "日本") == [0, 4]
    assert find_all("e\u0301e\u0301", "\u0301") == [1, 3]
    assert find_all("😀😀😀", "😀😀") == [0, 1]


def test_case_sensitive():
    assert find_all("Abc abc ABC", "abc") == [4]


def test_at_the_very_end():
    assert find_all("xxxab", "ab") == [3]


def test_non_str_pattern_raises_type_error():
    with pytest.raises(TypeError):
        find_all("abc", None)


def test_random_against_naive():
    rng = random.Random(31)
    for _ in range(300):
        text = "".join(rng.choice("ab") for _ in range(rng.randrange(0, 40)))
        pattern = "".join(rng.choice("ab") for _ in range(rng.randrange(0, 5)))
        assert find_all(text, pattern) == naive(text, pattern)

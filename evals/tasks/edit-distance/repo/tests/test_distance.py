from fuzzy import levenshtein


def test_classic():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("flaw", "lawn") == 2


def test_identical():
    assert levenshtein("same", "same") == 0


def test_empty():
    assert levenshtein("", "abc") == 3
    assert levenshtein("abc", "") == 3

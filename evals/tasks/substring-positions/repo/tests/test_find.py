from textsearch import find_all


def test_occurrences():
    assert find_all("the cat sat on the mat", "at") == [5, 9, 20]


def test_overlapping():
    assert find_all("aaaa", "aa") == [0, 1, 2]


def test_not_found():
    assert find_all("hello", "xyz") == []

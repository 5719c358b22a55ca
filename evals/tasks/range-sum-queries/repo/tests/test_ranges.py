import pytest

from series import range_totals


def test_totals():
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    assert range_totals(values, [(0, 3), (2, 6), (7, 8)]) == [8, 19, 6]


def test_empty_range():
    assert range_totals([1, 2], [(1, 1)]) == [0]


def test_bad_range():
    with pytest.raises(ValueError):
        range_totals([1, 2], [(0, 3)])

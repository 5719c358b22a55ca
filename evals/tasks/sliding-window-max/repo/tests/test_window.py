import pytest

from signals import window_maxima


def test_maxima():
    assert window_maxima([1, 3, -1, -3, 5, 3, 6, 7], 3) == [3, 3, 5, 5, 6, 7]


def test_width_one():
    assert window_maxima([4, 2, 9], 1) == [4, 2, 9]


def test_width_too_large():
    assert window_maxima([1, 2], 3) == []


def test_bad_width():
    with pytest.raises(ValueError):
        window_maxima([1], 0)

import pytest

from meters import mean


def test_mean():
    assert mean([1.0, 2.0, 3.0, 4.0]) == 2.5


def test_single():
    assert mean([7.25]) == 7.25


def test_empty():
    with pytest.raises(ValueError):
        mean([])

import pytest

from latency import median


def test_odd():
    assert median([5.0, 1.0, 3.0]) == 3.0


def test_even():
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_empty():
    with pytest.raises(ValueError):
        median([])

import pytest

from depots import nearest_depots

DEPOTS = [("north", 0, 10), ("east", 7, 0), ("south", 0, -3), ("west", -20, 0)]


def test_nearest():
    assert nearest_depots(DEPOTS, 0, 0, 2) == ["south", "east"]


def test_k_beyond_the_depots():
    assert nearest_depots(DEPOTS, 0, 0, 10) == ["south", "east", "north", "west"]


def test_k_zero():
    assert nearest_depots(DEPOTS, 0, 0, 0) == []


def test_negative_k():
    with pytest.raises(ValueError):
        nearest_depots(DEPOTS, 0, 0, -1)

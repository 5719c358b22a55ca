import pytest

from histo import histogram


def test_counts():
    assert histogram([0.5, 1.5, 1.7, 2.0, 9.0], [0.0, 1.0, 2.0, 3.0]) == [1, 2, 1]


def test_last_edge_is_included():
    assert histogram([3.0], [0.0, 1.0, 2.0, 3.0]) == [0, 0, 1]


def test_out_of_range_ignored():
    assert histogram([-1.0, 5.0], [0.0, 1.0]) == [0]


def test_bad_edges():
    with pytest.raises(ValueError):
        histogram([1.0], [1.0])
    with pytest.raises(ValueError):
        histogram([1.0], [0.0, 2.0, 1.0])

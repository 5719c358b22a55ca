import pytest

from calendarkit import merge_intervals, total_busy


def test_merge():
    assert merge_intervals([(1, 3), (8, 10), (2, 6), (15, 18)]) == [(1, 6), (8, 10), (15, 18)]


def test_touching_intervals_merge():
    assert merge_intervals([(1, 3), (3, 5)]) == [(1, 5)]


def test_empty():
    assert merge_intervals([]) == []


def test_bad_interval():
    with pytest.raises(ValueError):
        merge_intervals([(5, 1)])


def test_total_busy():
    assert total_busy([(0, 30), (15, 45), (60, 90)]) == 75

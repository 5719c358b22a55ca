import pytest

from scheduler import completion_order


def test_short_jobs_finish_first():
    jobs = [("a", 5), ("b", 2), ("c", 9)]
    assert completion_order(jobs, 3) == ["b", "a", "c"]


def test_everything_fits_in_one_slice():
    assert completion_order([("x", 1), ("y", 2), ("z", 3)], 10) == ["x", "y", "z"]


def test_empty():
    assert completion_order([], 4) == []


def test_bad_quantum():
    with pytest.raises(ValueError):
        completion_order([("a", 1)], 0)

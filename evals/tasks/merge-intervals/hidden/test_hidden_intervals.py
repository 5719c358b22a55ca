import random

import pytest

from calendarkit import merge_intervals


def by_points(intervals):
    """Union by sweeping sorted intervals, written independently."""
    out = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def test_single():
    assert merge_intervals([(4, 9)]) == [(4, 9)]


def test_point_intervals():
    assert merge_intervals([(5, 5), (5, 5), (6, 6)]) == [(5, 5), (6, 6)]
    assert merge_intervals([(5, 5), (4, 6)]) == [(4, 6)]


def test_nested_and_duplicates():
    assert merge_intervals([(1, 10), (2, 3), (4, 5), (1, 10)]) == [(1, 10)]


def test_chain_merging_in_reverse_order():
    assert merge_intervals([(9, 10), (7, 9), (5, 7), (3, 5), (1, 3)]) == [(1, 10)]


def test_bridge_joins_two_groups():
    assert merge_intervals([(1, 2), (5, 6), (2, 5)]) == [(1, 6)]


def test_negative_coordinates():
    assert merge_intervals([(-5, -1), (-2, 0), (3, 4)]) == [(-5, 0), (3, 4)]


def test_adjacent_but_not_touching_stay_apart():
    assert merge_intervals([(1, 2), (3, 4)]) == [(1, 2), (3, 4)]


def test_first_bad_interval_reported():
    with pytest.raises(ValueError, match=r"^interval \(5, 1\) ends before it starts$"):
        merge_intervals([(0, 1), (5, 1), (9, 2)])


def test_bad_interval_raises_even_if_it_would_merge():
    with pytest.raises(ValueError):
        merge_intervals([(0, 10), (3, 2)])


def test_result_is_list_of_tuples_and_input_untouched():
    intervals = [(3, 4), (1, 2)]
    out = merge_intervals(intervals)
    assert out == [(1, 2), (3, 4)] and all(type(i) is tuple for i in out)
    assert intervals == [(3, 4), (1, 2)]


def test_random_against_sweep():
    rng = random.Random(19)
    for _ in range(300):
        intervals = []
        for _ in range(rng.randrange(0, 25)):
            s = rng.randrange(-20, 40)
            intervals.append((s, s + rng.randrange(0, 6)))
        assert merge_intervals(intervals) == by_points(intervals)

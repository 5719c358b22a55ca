import random

import pytest

from series import range_totals


def test_no_queries():
    assert range_totals([1, 2, 3], []) == []
    assert range_totals([], []) == []


def test_empty_values_only_allow_empty_range():
    assert range_totals([], [(0, 0)]) == [0]
    with pytest.raises(ValueError, match=r"^bad range \(0, 1\) for 0 values$"):
        range_totals([], [(0, 1)])


def test_whole_and_single():
    values = [5, -2, 7]
    assert range_totals(values, [(0, 3), (1, 2), (3, 3), (0, 0)]) == [10, -2, 0, 0]


def test_negative_and_big_values_exact():
    big = 10**40
    values = [big, -big, 1, big]
    assert range_totals(values, [(0, 2), (0, 4), (2, 4)]) == [0, big + 1, big + 1]


@pytest.mark.parametrize("query", [(-1, 2), (2, 1), (0, 4), (4, 4), (-3, -1)])
def test_invalid_ranges_raise_with_message(query):
    with pytest.raises(ValueError, match=rf"^bad range \({query[0]}, {query[1]}\) for 3 values$"):
        range_totals([1, 2, 3], [(0, 1), query, (0, 9)])


def test_first_bad_query_is_reported():
    with pytest.raises(ValueError, match=r"\(5, 6\)"):
        range_totals([1, 2, 3], [(0, 3), (5, 6), (9, 9)])


def test_inputs_not_modified():
    values = [1, 2, 3]
    queries = [(0, 2), (1, 3)]
    range_totals(values, queries)
    assert values == [1, 2, 3] and queries == [(0, 2), (1, 3)]


def test_results_are_ints():
    assert all(type(t) is int for t in range_totals([1, 2, 3], [(0, 2), (2, 2)]))


def test_random_against_slices():
    rng = random.Random(44)
    for _ in range(200):
        values = [rng.randrange(-100, 100) for _ in range(rng.randrange(0, 50))]
        queries = []
        for _ in range(rng.randrange(0, 20)):
            a = rng.randrange(len(values) + 1)
            queries.append((a, rng.randrange(a, len(values) + 1)))
        assert range_totals(values, queries) == [sum(values[a:b]) for a, b in queries]

import itertools
import random

from rankings import count_inversions


def brute(values):
    return sum(1 for a, b in itertools.combinations(values, 2) if a > b)


def test_empty_and_single():
    assert count_inversions([]) == 0
    assert count_inversions([42]) == 0


def test_equal_values_are_not_inversions():
    assert count_inversions([5, 5, 5]) == 0
    assert count_inversions([2, 1, 1]) == 2
    assert count_inversions([1, 2, 1]) == 1


def test_strictly_decreasing():
    n = 300
    assert count_inversions(list(range(n, 0, -1))) == n * (n - 1) // 2


def test_negatives_and_big_ints():
    assert count_inversions([10**30, -(10**30), 0, -1]) == 4


def test_bools_compare_as_ints():
    assert count_inversions([True, False, 1, 0]) == 3


def test_input_not_modified():
    values = [3, 1, 2]
    count_inversions(values)
    assert values == [3, 1, 2]


def test_random_against_brute_force():
    rng = random.Random(83)
    for _ in range(300):
        values = [rng.randrange(-5, 6) for _ in range(rng.randrange(0, 40))]
        assert count_inversions(values) == brute(values)


def test_result_is_int():
    assert type(count_inversions([2, 1])) is int

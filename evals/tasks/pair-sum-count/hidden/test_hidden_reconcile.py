import itertools
import random

from ledger import count_pairs_with_sum


def brute(values, target):
    return sum(1 for a, b in itertools.combinations(values, 2) if a + b == target)


def test_single_and_empty():
    assert count_pairs_with_sum([], 5) == 0
    assert count_pairs_with_sum([5], 5) == 0
    assert count_pairs_with_sum([0], 0) == 0


def test_duplicates_count_every_pair():
    assert count_pairs_with_sum([3, 3, 3, 3], 6) == 6
    assert count_pairs_with_sum([0, 0, 0], 0) == 3
    assert count_pairs_with_sum([2, 2, 4, 0, 4], 4) == 1 + 2


def test_an_entry_never_pairs_with_itself():
    assert count_pairs_with_sum([5, 1], 10) == 0


def test_negatives_and_large_numbers():
    big = 10**30
    assert count_pairs_with_sum([big, -big, big, 1, -1], 0) == 3
    assert count_pairs_with_sum([-5, -3, -2, 8], -8) == 1


def test_bools_are_ints():
    assert count_pairs_with_sum([True, False, 1, 0], 1) == 4


def test_input_not_modified():
    values = [3, 1, 2, 2]
    count_pairs_with_sum(values, 4)
    assert values == [3, 1, 2, 2]


def test_random_against_brute_force():
    rng = random.Random(21)
    for _ in range(300):
        values = [rng.randrange(-10, 11) for _ in range(rng.randrange(0, 40))]
        target = rng.randrange(-15, 16)
        assert count_pairs_with_sum(values, target) == brute(values, target)


def test_large():
    values = list(range(-500, 501)) * 2
    assert count_pairs_with_sum(values, 0) == brute(values, 0)

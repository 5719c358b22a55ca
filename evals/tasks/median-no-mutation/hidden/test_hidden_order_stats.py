import math
import random
import statistics

import pytest

from latency import median


def test_input_is_not_sorted_in_place():
    samples = [3.0, 1.0, 2.0, 5.0, 4.0]
    assert median(samples) == 3.0
    assert samples == [3.0, 1.0, 2.0, 5.0, 4.0]


def test_input_not_modified_for_even_count_either():
    samples = [9.0, 1.0, 5.0, 3.0]
    median(samples)
    assert samples == [9.0, 1.0, 5.0, 3.0]


def test_single_and_pair():
    assert median([2.5]) == 2.5
    assert median([1.0, 2.0]) == 1.5


def test_exact_midpoint_arithmetic():
    assert median([0.1, 0.2]) == (0.1 + 0.2) / 2
    assert median([1e308, 1e308]) == math.inf  # (a + b) / 2, as written


def test_duplicates_and_negatives():
    assert median([-1.0, -1.0, -1.0, 7.0]) == -1.0
    assert median([-3.0, 0.0, 3.0]) == 0.0


def test_int_samples():
    assert median([3, 1, 2]) == 2 and type(median([3, 1, 2])) is int
    assert median([1, 2]) == 1.5


def test_empty_message():
    with pytest.raises(ValueError, match="^median of no samples$"):
        median([])


def test_random_against_statistics():
    rng = random.Random(5)
    for size in (1, 2, 3, 4, 99, 100, 1001):
        samples = [rng.uniform(-100, 100) for _ in range(size)]
        copy = list(samples)
        assert median(samples) == statistics.median(samples)
        assert samples == copy

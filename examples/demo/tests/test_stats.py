import random

import pytest

from logkit.stats import fastest, slowest


def test_fastest_and_slowest():
    latencies = [120.5, 3.25, 48.0, 999.9, 3.5]
    assert fastest(latencies) == 3.25
    assert slowest(latencies) == 999.9


def test_single_value():
    assert fastest([42.0]) == 42.0
    assert slowest([42.0]) == 42.0


def test_ties():
    assert fastest([5.0, 1.5, 1.5, 9.0, 9.0]) == 1.5
    assert slowest([5.0, 1.5, 1.5, 9.0, 9.0]) == 9.0
    assert fastest([2.0, 2.0, 2.0]) == slowest([2.0, 2.0, 2.0]) == 2.0


def test_zero_and_integers():
    assert fastest([0.0, 10.0, 0.001]) == 0.0
    assert slowest([3, 7, 5]) == 7


@pytest.mark.parametrize("func", [fastest, slowest])
def test_empty_raises(func):
    with pytest.raises(ValueError, match="no latencies"):
        func([])


def test_input_is_not_modified():
    latencies = [3.0, 1.0, 2.0]
    fastest(latencies)
    slowest(latencies)
    assert latencies == [3.0, 1.0, 2.0]


def test_matches_builtins_on_random_data():
    rng = random.Random(11)
    for size in (1, 2, 3, 10, 257):
        latencies = [rng.lognormvariate(3.0, 1.0) for _ in range(size)]
        assert fastest(latencies) == min(latencies)
        assert slowest(latencies) == max(latencies)

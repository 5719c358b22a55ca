import random

import pytest

from signals import window_maxima


def test_empty_samples():
    assert window_maxima([], 1) == []
    assert window_maxima([], 5) == []


def test_width_equals_length():
    assert window_maxima([3, 9, 2], 3) == [9]


def test_all_equal():
    assert window_maxima([7] * 10, 4) == [7] * 7


def test_decreasing_and_increasing():
    assert window_maxima(list(range(10, 0, -1)), 3) == list(range(10, 2, -1))
    assert window_maxima(list(range(10)), 3) == list(range(2, 10))


def test_negatives_and_big_ints():
    big = 10**25
    assert window_maxima([-5, -9, -1, big, -big], 2) == [-5, -1, big, big]


@pytest.mark.parametrize("width", [0, -1, -10])
def test_non_positive_width_message(width):
    with pytest.raises(ValueError, match=f"^width must be positive, got {width}$"):
        window_maxima([1, 2, 3], width)


def test_non_positive_width_raises_even_when_empty():
    with pytest.raises(ValueError):
        window_maxima([], 0)


def test_input_not_modified():
    samples = [5, 1, 4]
    window_maxima(samples, 2)
    assert samples == [5, 1, 4]


def test_random_against_slices():
    rng = random.Random(53)
    for _ in range(300):
        samples = [rng.randrange(-5, 6) for _ in range(rng.randrange(0, 40))]
        width = rng.randrange(1, 12)
        expected = [max(samples[i : i + width]) for i in range(len(samples) - width + 1)]
        assert window_maxima(samples, width) == expected

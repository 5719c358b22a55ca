import random

import pytest

from depots import nearest_depots


def by_hand(depots, x, y, k):
    """Written independently: a stable selection by distance."""
    order = sorted(
        range(len(depots)), key=lambda i: (abs(depots[i][1] - x) + abs(depots[i][2] - y), i)
    )
    return [depots[i][0] for i in order[:k]]


def test_no_depots():
    assert nearest_depots([], 0, 0, 3) == []
    assert nearest_depots([], 0, 0, 0) == []


def test_single_depot():
    assert nearest_depots([("only", 5, 5)], -5, -5, 1) == ["only"]


def test_ties_keep_the_input_order():
    depots = [("d", 0, 2), ("a", 2, 0), ("c", -1, -1), ("b", 0, -2), ("e", 0, 1)]
    assert nearest_depots(depots, 0, 0, 4) == ["e", "d", "a", "c"]
    assert nearest_depots(depots, 0, 0, 1) == ["e"]


def test_all_at_the_same_place():
    depots = [(f"d{i}", 3, 3) for i in range(50)]
    assert nearest_depots(depots, 0, 0, 5) == ["d0", "d1", "d2", "d3", "d4"]


def test_duplicate_names_are_kept():
    assert nearest_depots([("x", 1, 0), ("x", 2, 0)], 0, 0, 2) == ["x", "x"]


def test_negative_coordinates_and_a_far_origin():
    depots = [("a", -100, -100), ("b", 100, 100), ("c", -99, -101)]
    assert nearest_depots(depots, -1000, -1000, 3) == ["a", "c", "b"]


def test_exactly_as_many_as_asked():
    depots = [("a", 2, 0), ("b", 1, 0), ("c", 3, 0)]
    assert nearest_depots(depots, 0, 0, 3) == ["b", "a", "c"]


def test_negative_k_message():
    with pytest.raises(ValueError, match=r"^k must not be negative, got -2$"):
        nearest_depots([("a", 0, 0)], 0, 0, -2)


def test_negative_k_raises_even_without_depots():
    with pytest.raises(ValueError):
        nearest_depots([], 0, 0, -1)


def test_unicode_names():
    assert nearest_depots([("Zürich", 1, 1), ("東京", 0, 1)], 0, 0, 2) == ["東京", "Zürich"]


def test_input_is_unchanged():
    depots = [("b", 5, 0), ("a", 1, 0)]
    nearest_depots(depots, 0, 0, 1)
    assert depots == [("b", 5, 0), ("a", 1, 0)]


def test_random_against_a_stable_selection():
    rng = random.Random(13)
    for _ in range(300):
        depots = [
            (f"d{i}", rng.randrange(-6, 6), rng.randrange(-6, 6))
            for i in range(rng.randrange(0, 40))
        ]
        x, y, k = rng.randrange(-8, 8), rng.randrange(-8, 8), rng.randrange(0, 45)
        assert nearest_depots(depots, x, y, k) == by_hand(depots, x, y, k)


def test_many_depots_with_ties():
    rng = random.Random(3)
    depots = [(f"d{i}", rng.randrange(-50, 50), rng.randrange(-50, 50)) for i in range(20_000)]
    for k in (1, 2, 17, 500):
        assert nearest_depots(depots, 7, -3, k) == by_hand(depots, 7, -3, k)

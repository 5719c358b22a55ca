import math
import random

import pytest

from histo import histogram


def slow(values, edges):
    counts = [0] * (len(edges) - 1)
    for v in values:
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            if lo <= v < hi or (i == len(edges) - 2 and v == hi):
                counts[i] += 1
                break
    return counts


def test_no_values():
    assert histogram([], [0.0, 1.0, 2.0]) == [0, 0]


def test_single_bin():
    assert histogram([0.0, 0.5, 1.0, 1.5], [0.0, 1.0]) == [3]


def test_edges_go_to_the_right_bin():
    assert histogram([1.0, 2.0], [0.0, 1.0, 2.0, 3.0]) == [0, 1, 1]


def test_nan_and_infinities():
    edges = [0.0, 1.0, 2.0]
    assert histogram([math.nan, math.inf, -math.inf, 1.0], edges) == [0, 1]
    assert histogram([math.inf, 5.0], [0.0, math.inf]) == [2]
    assert histogram([-math.inf], [-math.inf, 0.0]) == [1]


def test_negative_and_uneven_edges():
    assert histogram([-10.0, -0.5, 0.0, 0.25, 99.0], [-10.0, -1.0, 0.0, 100.0]) == [1, 1, 3]


def test_int_values_and_edges():
    assert histogram([0, 1, 2, 3], [0, 2, 3]) == [2, 2]


def test_duplicates():
    assert histogram([1.5] * 7, [1.0, 2.0]) == [7]


def test_edge_errors():
    with pytest.raises(ValueError, match="^need at least two edges$"):
        histogram([], [])
    with pytest.raises(ValueError, match="^need at least two edges$"):
        histogram([1.0], [0.0])
    with pytest.raises(ValueError, match=r"^edges must be strictly increasing: 1\.0 then 1\.0$"):
        histogram([1.0], [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"^edges must be strictly increasing: 2 then 1$"):
        histogram([], [0, 2, 1, 0])


def test_nan_edge_is_rejected():
    with pytest.raises(ValueError):
        histogram([1.0], [0.0, math.nan, 2.0])


def test_inputs_not_modified():
    values = [2.5, 0.5]
    edges = [0.0, 1.0, 3.0]
    histogram(values, edges)
    assert values == [2.5, 0.5] and edges == [0.0, 1.0, 3.0]


def test_random_against_slow():
    rng = random.Random(97)
    for _ in range(200):
        edges = sorted(set(round(rng.uniform(-5, 5), 1) for _ in range(rng.randrange(2, 8))))
        if len(edges) < 2:
            continue
        values = [round(rng.uniform(-6, 6), 1) for _ in range(rng.randrange(0, 40))]
        assert histogram(values, edges) == slow(values, edges)

import math
import random

import pytest

from linalg import identity, matmul


def reference(a, b):
    return [
        [math.fsum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]) if b else 0)]
        for i in range(len(a))
    ]


def close(x, y):
    return len(x) == len(y) and all(
        r == pytest.approx(s, rel=1e-9, abs=1e-12) for r, s in zip(x, y)
    )


def test_empty_a():
    assert matmul([], [[1.0]]) == []
    assert matmul([], []) == []


def test_inner_dimension_zero():
    assert matmul([[], []], []) == [[], []]


def test_zero_columns():
    assert matmul([[1.0, 2.0]], [[], []]) == [[]]


def test_vector_shapes():
    assert matmul([[1.0, 2.0, 3.0]], [[1.0], [1.0], [1.0]]) == [[6.0]]
    assert matmul([[2.0], [3.0]], [[4.0, 5.0]]) == [[8.0, 10.0], [12.0, 15.0]]


def test_results_are_floats_even_for_int_input():
    out = matmul([[1, 2]], [[3], [4]])
    assert out == [[11.0]] and type(out[0][0]) is float


def test_errors():
    with pytest.raises(ValueError, match="a has rows that are not of length 2"):
        matmul([[1.0, 2.0], [1.0]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="b is ragged"):
        matmul([[1.0, 2.0]], [[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError):
        matmul([[1.0]], [])


def test_inputs_not_modified_and_result_fresh():
    a = [[1.0, 2.0], [3.0, 4.0]]
    b = identity(2)
    out = matmul(a, b)
    assert a == [[1.0, 2.0], [3.0, 4.0]] and b == identity(2)
    out[0][0] = 99.0
    assert a[0][0] == 1.0
    assert out[0] is not out[1]


def test_special_values():
    out = matmul([[math.inf, 1.0]], [[0.0], [1.0]])
    assert math.isnan(out[0][0])
    out = matmul([[1e308, 1e308]], [[1.0], [1.0]])
    assert out == [[math.inf]]


def test_random_against_fsum():
    rng = random.Random(5)
    for _ in range(50):
        n, k, m = rng.randrange(1, 8), rng.randrange(0, 8), rng.randrange(0, 8)
        a = [[rng.uniform(-10, 10) for _ in range(k)] for _ in range(n)]
        b = [[rng.uniform(-10, 10) for _ in range(m)] for _ in range(k)]
        out = matmul(a, b)
        width = m if k else 0  # with no rows, b has no columns either
        expected = reference(a, b) if k else [[] for _ in range(n)]
        assert len(out) == n and all(len(r) == width for r in out)
        assert all(close(r, s) for r, s in zip(out, expected))

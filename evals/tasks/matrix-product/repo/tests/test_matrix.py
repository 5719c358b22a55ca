import pytest

from linalg import identity, matmul


def test_product():
    a = [[1.0, 2.0], [3.0, 4.0]]
    b = [[5.0, 6.0], [7.0, 8.0]]
    assert matmul(a, b) == [[19.0, 22.0], [43.0, 50.0]]


def test_identity():
    a = [[1.5, -2.0, 0.0], [4.0, 5.0, 6.25]]
    assert matmul(a, identity(3)) == a


def test_shape_mismatch():
    with pytest.raises(ValueError):
        matmul([[1.0, 2.0]], [[1.0, 2.0]])

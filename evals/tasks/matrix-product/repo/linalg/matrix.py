"""Dense matrices as lists of rows."""

from __future__ import annotations


def matmul(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    """The product ``a @ b`` of an ``n×k`` and a ``k×m`` matrix, as a new ``n×m`` matrix.

    Raises ``ValueError`` when a matrix is ragged or the inner dimensions differ. An empty
    ``a`` gives ``[]``.
    """
    if not a:
        return []
    inner = len(b)
    cols = len(b[0]) if b else 0
    if any(len(row) != inner for row in a):
        raise ValueError(f"a has rows that are not of length {inner}")
    if any(len(row) != cols for row in b):
        raise ValueError("b is ragged")
    result = []
    for i in range(len(a)):
        row = []
        for j in range(cols):
            total = 0.0
            for k in range(inner):
                total += a[i][k] * b[k][j]
            row.append(total)
        result.append(row)
    return result


def identity(n: int) -> list[list[float]]:
    """The ``n×n`` identity matrix."""
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]

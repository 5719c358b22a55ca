"""Dense linear algebra on nested lists."""

from linalg.matrix import identity, matmul

__all__ = ["identity", "matmul"]

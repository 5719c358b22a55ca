"""Prime numbers."""

from __future__ import annotations

from math import isqrt


def primes_below(limit: int) -> list[int]:
    """Every prime ``p`` with ``p < limit``, in increasing order (none for ``limit <= 2``)."""
    if not isinstance(limit, int):
        range(limit)  # the original's TypeError, message and all
    if limit <= 2:
        return []
    # Sieve of Eratosthenes: cross off multiples with slice assignment, in C.
    sieve = bytearray([1]) * limit
    sieve[0] = sieve[1] = 0
    for p in range(2, isqrt(limit - 1) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytes(len(range(p * p, limit, p)))
    return [n for n, flag in enumerate(sieve) if flag]


def is_prime(n: int) -> bool:
    """Whether ``n`` is prime."""
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True

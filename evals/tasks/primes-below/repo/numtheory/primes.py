"""Prime numbers."""

from __future__ import annotations


def primes_below(limit: int) -> list[int]:
    """Every prime ``p`` with ``p < limit``, in increasing order (none for ``limit <= 2``)."""
    primes: list[int] = []
    for candidate in range(2, limit):
        is_prime = True
        for p in primes:
            if p * p > candidate:
                break
            if candidate % p == 0:
                is_prime = False
                break
        if is_prime:
            primes.append(candidate)
    return primes


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

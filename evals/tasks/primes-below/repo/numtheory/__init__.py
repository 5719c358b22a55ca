"""Small number-theory helpers."""

from numtheory.primes import is_prime, primes_below

__all__ = ["is_prime", "primes_below"]

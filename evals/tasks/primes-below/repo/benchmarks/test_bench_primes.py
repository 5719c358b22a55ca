"""Benchmark: a table of primes for hashing."""

from __future__ import annotations

from numtheory.primes import primes_below

LIMIT = 50_000


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return primes_below, (LIMIT,)


def test_bench_primes_below(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == 5_133

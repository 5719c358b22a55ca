"""Benchmark: the partition count of a medium-sized total."""

from __future__ import annotations

from partitions.counting import count_partitions

TOTAL, LARGEST = 40, 40


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return count_partitions, (TOTAL, LARGEST)


def test_bench_count_partitions(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) == 37338

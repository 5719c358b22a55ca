"""Benchmark: pricing a long board against the yard's standard lengths."""

from __future__ import annotations

from lumber.pricing import PriceList

PRICES = {2: 3, 3: 5, 4: 7, 6: 11, 7: 12, 8: 15}
LENGTH = 25


def bench_case():
    """The benchmarked call: ``(bound method, args)``."""
    return PriceList(PRICES).best_revenue, (LENGTH,)


def test_bench_best_revenue(benchmark):
    function, args = bench_case()
    assert benchmark(function, *args) > 0

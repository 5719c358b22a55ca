"""Benchmark: naming the customers of a day's orders."""

from __future__ import annotations

import random

from crm.book import CustomerBook

N_CUSTOMERS = 1_500
N_ORDERS = 1_500


def make_book(seed: int = 23) -> tuple[CustomerBook, list[int]]:
    rng = random.Random(seed)
    ids = rng.sample(range(10**6), N_CUSTOMERS)
    book = CustomerBook([(i, f"customer {i}") for i in ids])
    orders = [rng.choice(ids) if rng.random() < 0.95 else -1 for _ in range(N_ORDERS)]
    return book, orders


def bench_case():
    """The benchmarked call: ``(bound method, args)``."""
    book, orders = make_book()
    return book.names_for, (orders,)


def test_bench_names_for(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_ORDERS

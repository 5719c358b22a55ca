"""Benchmark: the date column of a large import."""

from __future__ import annotations

import random

from datefields.validate import iso_dates

N_FIELDS = 60_000


def make_column(n: int = N_FIELDS, seed: int = 10) -> list[str]:
    rng = random.Random(seed)
    fields = []
    for _ in range(n):
        y, m, d = rng.randrange(1990, 2030), rng.randrange(1, 14), rng.randrange(0, 33)
        style = rng.random()
        if style < 0.7:
            fields.append(f"{y}-{m:02d}-{d:02d}")
        elif style < 0.85:
            fields.append(f"{d:02d}/{m:02d}/{y}")
        elif style < 0.95:
            fields.append("")
        else:
            fields.append("n/a")
    return fields


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return iso_dates, (make_column(),)


def test_bench_iso_dates(benchmark):
    function, args = bench_case()
    dates = benchmark(function, *args)
    assert 0 < len(dates) < N_FIELDS

"""Benchmark: a day of a busy API's access log."""

from __future__ import annotations

import random

from weblogs.summary import status_summary

N_REQUESTS = 30_000
STATUSES = [200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 404, 404, 500, 503]


def make_log(n: int = N_REQUESTS, seed: int = 31) -> str:
    rng = random.Random(seed)
    paths = [f"/api/v2/{kind}/{i}" for kind in ("users", "orders", "items") for i in range(60)]
    lines = [
        f"{rng.choice(('GET', 'GET', 'POST', 'PUT', 'DELETE'))} {rng.choice(paths)} "
        f"{rng.choice(STATUSES)} {rng.randrange(0, 120_000)}"
        for _ in range(n)
    ]
    return "\n".join(lines) + "\n"


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return status_summary, (make_log(),)


def test_bench_status_summary(benchmark):
    function, args = bench_case()
    totals = benchmark(function, *args)
    assert sum(requests for requests, _ in totals.values()) == N_REQUESTS

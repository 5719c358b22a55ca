"""Benchmarks for logkit's hot paths, on realistic, deterministic inputs.

Run explicitly (they are not in the default test paths)::

    pytest benchmarks                       # time them
    pytest benchmarks --benchmark-disable   # just run each once, as a smoke test
"""

from __future__ import annotations

import random
from collections import deque

import pytest

from logkit import (
    backoff_schedules,
    fastest,
    has_errors,
    hops,
    answered,
    remove_stopwords,
    render_table,
    slowest,
    unique_ips,
)

# Input sizes: chosen so that each call takes tens of milliseconds.
N_WORDS = 200_000
N_LOG_LINES = 8_000
N_CLIENTS = 1_000
N_SERVICES = 45_000
CALLS_PER_SERVICE = 3
N_LATENCIES = 200_000
RETRY_ATTEMPTS, RETRY_BUDGET = 7, 24
N_SCANNED_LINES = 400_000
N_TABLE_ROWS = 20_000
N_REQUEST_IDS = 200_000

_VOCABULARY = (
    "request timeout upstream cache miss user login failed payment gateway retry "
    "connection reset database query slow index worker queue backlog token expired "
    "session created deleted updated invalid header proxy response latency disk"
).split()
_STOPWORDS = ["the", "a", "an", "and", "of", "to", "in", "on", "for", "with", "The", "A", "is"]
_PATHS = ["/", "/login", "/logout", "/api/v1/orders", "/api/v1/users", "/static/app.js", "/health"]
_LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN"]


def make_words(n: int = N_WORDS, seed: int = 1) -> list[str]:
    """Message words, about one in four a stopword, some capitalised."""
    rng = random.Random(seed)
    words = []
    for _ in range(n):
        if rng.random() < 0.25:
            words.append(rng.choice(_STOPWORDS))
        else:
            word = rng.choice(_VOCABULARY)
            words.append(word.capitalize() if rng.random() < 0.1 else word)
    return words


def _ip(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def make_access_log(n: int = N_LOG_LINES, clients: int = N_CLIENTS, seed: int = 2) -> list[str]:
    """Common-log-format lines from a pool of ``clients`` addresses."""
    rng = random.Random(seed)
    pool = [_ip(rng) for _ in range(clients)]
    lines = []
    for i in range(n):
        ip = rng.choice(pool)
        path = rng.choice(_PATHS)
        status = rng.choice((200, 200, 200, 301, 404, 500))
        lines.append(
            f'{ip} - - [10/Oct/2024:13:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
            f'"GET {path} HTTP/1.1" {status} {rng.randrange(100, 50_000)}'
        )
    return lines


def make_call_graph(
    n: int = N_SERVICES, fanout: int = CALLS_PER_SERVICE, seed: int = 3
) -> dict[str, list[str]]:
    """A sparse random service call graph: each service calls ``fanout`` random others."""
    rng = random.Random(seed)
    names = [f"svc-{i:05d}" for i in range(n)]
    return {name: rng.sample(names, fanout) for name in names}


def farthest_service(graph: dict[str, list[str]], start: str) -> tuple[str, int]:
    """The service reachable from ``start`` that is the most calls away, and that distance."""
    distance = {start: 0}
    queue = deque([start])
    node = start
    while queue:
        node = queue.popleft()
        for callee in graph.get(node, []):
            if callee not in distance:
                distance[callee] = distance[node] + 1
                queue.append(callee)
    return node, distance[node]


def make_latencies(n: int = N_LATENCIES, seed: int = 4) -> list[float]:
    """Request latencies in milliseconds: log-normal, like real ones."""
    rng = random.Random(seed)
    return [round(rng.lognormvariate(3.0, 0.8), 3) for _ in range(n)]


def make_error_scan(n: int = N_SCANNED_LINES, seed: int = 5) -> list[str]:
    """Application-log lines with the first ERROR near the top of the file."""
    rng = random.Random(seed)
    templates = [
        f"2024-10-10T13:{m:02d}:{s:02d}Z {level} worker-{w} {rng.choice(_VOCABULARY)} "
        f"{rng.choice(_VOCABULARY)} in {rng.randrange(1, 900)}ms"
        for m, s, level, w in (
            (rng.randrange(60), rng.randrange(60), rng.choice(_LEVELS), rng.randrange(8))
            for _ in range(500)
        )
    ]
    lines = [rng.choice(templates) for _ in range(n)]
    lines[120] = "2024-10-10T13:00:07Z ERROR worker-3 payment gateway timeout in 30000ms"
    return lines


def make_table_rows(n: int = N_TABLE_ROWS, seed: int = 6) -> list[tuple[str, int]]:
    """(endpoint, hit count) pairs."""
    rng = random.Random(seed)
    return [(f"{rng.choice(_PATHS)}#{i}", rng.randrange(1_000_000)) for i in range(n)]


@pytest.fixture(scope="module")
def call_graph() -> tuple[dict[str, list[str]], str, str, int]:
    graph = make_call_graph()
    start = "svc-00000"
    goal, distance = farthest_service(graph, start)
    return graph, start, goal, distance


def test_bench_remove_stopwords(benchmark):
    words = make_words()
    kept = benchmark(remove_stopwords, words)
    assert 0 < len(kept) < len(words)


def test_bench_unique_ips(benchmark):
    lines = make_access_log()
    ips = benchmark(unique_ips, lines)
    assert len(ips) == len({line.split()[0] for line in lines})


def test_bench_hops(benchmark, call_graph):
    graph, start, goal, distance = call_graph
    assert benchmark(hops, graph, start, goal) == distance


def test_bench_fastest(benchmark):
    latencies = make_latencies()
    assert benchmark(fastest, latencies) == min(latencies)


def test_bench_slowest(benchmark):
    latencies = make_latencies()
    assert benchmark(slowest, latencies) == max(latencies)


def test_bench_backoff_schedules(benchmark):
    assert benchmark(backoff_schedules, RETRY_ATTEMPTS, RETRY_BUDGET) > 0


def test_bench_has_errors(benchmark):
    assert benchmark(has_errors, make_error_scan()) is True


def test_bench_render_table(benchmark):
    rows = make_table_rows()
    table = benchmark(render_table, rows)
    assert table.count("\n") == len(rows)



def test_bench_answered(benchmark):
    failed = set(random.Random(5).sample(range(1, N_REQUEST_IDS + 1), 2_000))
    assert benchmark(answered, failed, N_REQUEST_IDS) == N_REQUEST_IDS - len(failed)

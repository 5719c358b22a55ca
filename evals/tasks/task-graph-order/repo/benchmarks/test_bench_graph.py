"""Benchmark: ordering a wide monorepo build with thousands of independent targets."""

from __future__ import annotations

import random

from buildgraph.graph import TaskGraph

N_STEPS = 20_000
N_EDGES = 5_000


def make_graph(n: int = N_STEPS, edges: int = N_EDGES, seed: int = 4) -> TaskGraph:
    """Steps ``s00000``…; each edge points from a later step to an earlier one (no cycles)."""
    rng = random.Random(seed)
    graph = TaskGraph()
    names = [f"s{i:05d}" for i in range(n)]
    for name in names:
        graph.add(name)
    for _ in range(edges):
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            graph.depends(names[max(a, b)], names[min(a, b)])
    return graph


def bench_case():
    """The benchmarked call: ``(bound method, args)``."""
    return make_graph().order, ()


def test_bench_order(benchmark):
    function, args = bench_case()
    order = benchmark(function, *args)
    assert len(order) == N_STEPS

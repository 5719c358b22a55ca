"""Benchmark: scheduling a large generated pipeline."""

from __future__ import annotations

import random

from pipeline.schedule import run_order

N_STEPS = 550


def make_pipeline(n: int = N_STEPS, seed: int = 22) -> tuple[list[str], dict[str, list[str]]]:
    """Steps listed in a shuffled order; each requires up to three earlier-created steps."""
    rng = random.Random(seed)
    created = [f"step-{i:04d}" for i in range(n)]
    requires = {}
    for i, step in enumerate(created):
        if i:
            requires[step] = rng.sample(created[:i], min(i, rng.randrange(0, 4)))
    steps = created[:]
    rng.shuffle(steps)
    return steps, requires


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return run_order, make_pipeline()


def test_bench_run_order(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_STEPS

"""Benchmark: deduplicating the tags of a large bookmark export."""

from __future__ import annotations

import random

from tagging.tags import unique_tags

N_TAGS = 4_000
N_DISTINCT = 700


def make_tags(n: int = N_TAGS, distinct: int = N_DISTINCT, seed: int = 1) -> list[str]:
    """Tags drawn from a pool, in assorted spellings."""
    rng = random.Random(seed)
    pool = [
        f"topic {i} {rng.choice(['notes', 'ideas', 'links', 'reading'])}" for i in range(distinct)
    ]
    tags = []
    for _ in range(n):
        tag = rng.choice(pool)
        if rng.random() < 0.3:
            tag = tag.title()
        if rng.random() < 0.2:
            tag = f"  {tag} "
        tags.append(tag)
    return tags


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return unique_tags, (make_tags(),)


def test_bench_unique_tags(benchmark):
    function, args = bench_case()
    unique = benchmark(function, *args)
    assert len(unique) == len(set(unique))

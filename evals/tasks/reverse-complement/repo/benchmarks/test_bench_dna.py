"""Benchmark: reverse-complementing an assembled contig."""

from __future__ import annotations

import random

from seqtools.dna import reverse_complement

N_BASES = 40_000


def make_contig(n: int = N_BASES, seed: int = 25) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGTacgtN") for _ in range(n))


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return reverse_complement, (make_contig(),)


def test_bench_reverse_complement(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_BASES

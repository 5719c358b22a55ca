"""Benchmark: rendering a sequenced read back to text."""

from __future__ import annotations

import random

from genomics.strand import Nucleotide, strand_to_text

N_BASES = 45_000


def make_strand(n: int = N_BASES, seed: int = 11) -> list[Nucleotide]:
    rng = random.Random(seed)
    bases = list(Nucleotide)
    return [rng.choice(bases) for _ in range(n)]


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return strand_to_text, (make_strand(),)


def test_bench_strand_to_text(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) == N_BASES

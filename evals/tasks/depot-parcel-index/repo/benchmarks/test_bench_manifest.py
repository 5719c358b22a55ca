"""Benchmark: listing one depot's parcels on a busy day's manifest, and the day's dispatch
report (every depot's parcels, from one manifest)."""

from __future__ import annotations

import random

from freight.manifest import Manifest, Parcel

N_PARCELS = 200_000
DISPATCH_PARCELS = 20_000  # a smaller depot's day
DEPOTS = [f"D{number:02d}" for number in range(60)]


def make_manifest(seed: int = 11, size: int = N_PARCELS) -> Manifest:
    rng = random.Random(seed)
    depots = rng.choices(DEPOTS, k=size)
    parcels = [
        Parcel(f"TRK{number:08d}", depot, (number * 7919 % 300 + 1) / 10)
        for number, depot in enumerate(depots)
    ]
    return Manifest(parcels)


def bench_case():
    """The benchmarked call: ``(bound method, args)``."""
    return make_manifest().at_depot, ("D17",)


def test_bench_at_depot(benchmark):
    function, args = bench_case()
    assert len(benchmark(function, *args)) > 0


def test_dispatch_report():
    manifest = make_manifest(size=DISPATCH_PARCELS)
    counts = [len(manifest.at_depot(depot)) for depot in DEPOTS]
    assert sum(counts) == DISPATCH_PARCELS

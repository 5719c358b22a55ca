"""Benchmark: an hour of readings from a few hundred sensors."""

from __future__ import annotations

import random

from telemetry.summary import sensor_ranges

N_SENSORS = 150
N_READINGS = 720


def make_readings(seed: int = 8) -> dict[str, list[float]]:
    rng = random.Random(seed)
    readings = {}
    for i in range(N_SENSORS):
        base = rng.uniform(-20.0, 40.0)
        readings[f"sensor-{i:03d}"] = [round(base + rng.gauss(0, 3), 2) for _ in range(N_READINGS)]
    readings["sensor-offline"] = []
    return readings


def bench_case():
    """The benchmarked call: ``(function, args)``."""
    return sensor_ranges, (make_readings(),)


def test_bench_sensor_ranges(benchmark):
    function, args = bench_case()
    ranges = benchmark(function, *args)
    assert len(ranges) == N_SENSORS

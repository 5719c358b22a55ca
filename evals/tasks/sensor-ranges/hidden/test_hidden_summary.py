import math
import random

from telemetry import sensor_ranges


def test_single_reading():
    assert sensor_ranges({"s": [3.5]}) == {"s": (3.5, 3.5)}


def test_duplicates_and_negatives():
    assert sensor_ranges({"s": [-2.0, 7.0, -2.0, 7.0, 0.0]}) == {"s": (-2.0, 7.0)}


def test_infinities():
    out = sensor_ranges({"s": [1.0, math.inf, -math.inf, 2.0]})
    assert out == {"s": (-math.inf, math.inf)}


def test_huge_and_tiny_values_exact():
    values = [1e308, -1e308, 5e-324, -5e-324, 0.1, 0.2]
    assert sensor_ranges({"x": values}) == {"x": (-1e308, 1e308)}


def test_integers_are_returned_as_given():
    out = sensor_ranges({"i": [3, 1, 2]})
    assert out == {"i": (1, 3)}
    assert type(out["i"][0]) is int


def test_order_of_sensors_kept_and_empty_skipped():
    readings = {"z": [1.0], "a": [], "m": [2.0, 1.0], "b": []}
    out = sensor_ranges(readings)
    assert list(out) == ["z", "m"]


def test_inputs_are_not_modified():
    readings = {"s": [3.0, 1.0, 2.0], "t": []}
    sensor_ranges(readings)
    assert readings == {"s": [3.0, 1.0, 2.0], "t": []}


def test_random_matches_min_max():
    rng = random.Random(12)
    for _ in range(100):
        readings = {
            f"s{i}": [rng.uniform(-100, 100) for _ in range(rng.randrange(0, 40))]
            for i in range(rng.randrange(0, 8))
        }
        expected = {k: (min(v), max(v)) for k, v in readings.items() if v}
        assert sensor_ranges(readings) == expected

from telemetry import sensor_ranges


def test_ranges():
    readings = {"t1": [20.5, 19.0, 22.25], "t2": [5.0]}
    assert sensor_ranges(readings) == {"t1": (19.0, 22.25), "t2": (5.0, 5.0)}


def test_silent_sensors_are_skipped():
    assert sensor_ranges({"a": [], "b": [1.0, -1.0]}) == {"b": (-1.0, 1.0)}


def test_no_sensors():
    assert sensor_ranges({}) == {}

from inventory import unknown_items


def test_unknown_items():
    stock = {"A1": 3, "B2": 0}
    backorders = {"C3": 10}
    assert unknown_items(["A1", "Z9", "C3", "B2", "Y8"], stock, backorders) == ["Z9", "Y8"]


def test_repeats_are_kept():
    assert unknown_items(["x", "x", "y"], {"y": 1}, {}) == ["x", "x"]


def test_empty_order():
    assert unknown_items([], {"a": 1}, {"b": 2}) == []

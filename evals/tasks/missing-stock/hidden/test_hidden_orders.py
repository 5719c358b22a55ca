import random

import pytest

from inventory import unknown_items


def test_zero_quantities_are_known():
    assert unknown_items(["a", "b"], {"a": 0}, {"b": 0}) == []


def test_all_unknown_with_empty_books():
    assert unknown_items(["a", "b", "a"], {}, {}) == ["a", "b", "a"]


def test_case_and_unicode_are_exact():
    stock = {"SKU-é": 1, "sku": 2}
    assert unknown_items(["SKU-é", "SKU-e\u0301", "SKU", "sku"], stock, {}) == [
        "SKU-e\u0301",
        "SKU",
    ]


def test_known_in_either_book():
    stock = {"a": 1}
    backorders = {"b": 1}
    assert unknown_items(["b", "a", "c"], stock, backorders) == ["c"]


def test_inputs_are_not_modified():
    order = ["a", "b"]
    stock = {"a": 1}
    backorders = {"c": 2}
    unknown_items(order, stock, backorders)
    assert order == ["a", "b"] and stock == {"a": 1} and backorders == {"c": 2}
    assert list(stock) == ["a"]


def test_unhashable_item_raises_type_error():
    with pytest.raises(TypeError):
        unknown_items([["not", "a", "sku"]], {"a": 1}, {})


def test_random_against_sets():
    rng = random.Random(4)
    for _ in range(100):
        skus = [f"s{i}" for i in range(30)]
        stock = {s: rng.randrange(3) for s in rng.sample(skus, rng.randrange(0, 15))}
        backorders = {s: 1 for s in rng.sample(skus, rng.randrange(0, 15))}
        order = [rng.choice(skus + ["zz"]) for _ in range(rng.randrange(0, 50))]
        known = set(stock) | set(backorders)
        assert unknown_items(order, stock, backorders) == [s for s in order if s not in known]

"""How outcomes are described (in the sandbox) and compared (in Evolver), without processes."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import pytest

from agent._harness.evolver_observe import call, describe, digest, outcome
from agent.verify.outcomes import difference, render, render_call


def observed(function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """What the sandbox would send: an outcome, through JSON."""
    result = outcome(call(function, args, kwargs), args, kwargs)
    return json.loads(json.dumps(result, allow_nan=True))


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = 1


def test_same_behaviour_has_no_difference() -> None:
    one = observed(sorted, [3, 1, 2])
    two = observed(lambda xs: sorted(xs), [3, 1, 2])
    assert difference(one, two, 1e-9, messages=True) is None
    assert digest(one) == digest(two)


@pytest.mark.parametrize(
    ("original", "candidate", "words"),
    [
        (lambda: [1, 2], lambda: [2, 1], "the result differs at [0]: 2 instead of 1"),
        (lambda: [1, 2], lambda: (1, 2), "returns (1, 2) where the original returns [1, 2]"),
        (lambda: 1, lambda: True, "returns True where the original returns 1"),
        (lambda: 1.0, lambda: 1, "returns 1 where the original returns 1.0"),
        (lambda: {"a": 1, "b": 2}, lambda: {"b": 2, "a": 1}, "(keys)"),
        (lambda: {"a": [1]}, lambda: {"a": [2]}, "the result differs at ['a'][0]: 2 instead of 1"),
        (lambda: Point(1), lambda: Point(2), "the result differs at .x: 2 instead of 1"),
        (lambda: iter([1, 2]), lambda: [1, 2], "returns [1, 2] where the original returns <"),
        (lambda: {1, 2}, lambda: frozenset({1, 2}), "frozenset({1, 2})"),
        (lambda: 0.1 + 0.2, lambda: 0.3 + 1e-6, "returns 0.30000099"),
        (lambda: Counter("aab"), lambda: Counter("abb"), "differs at ['a']: 1 instead of 2"),
    ],
)
def test_differences_are_found_and_said(original: Any, candidate: Any, words: str) -> None:
    why = difference(observed(original), observed(candidate), 1e-9, messages=True)
    assert why is not None and words in why


def test_floats_within_the_tolerance_and_nan_are_equal() -> None:
    assert difference(observed(lambda: 0.1 + 0.2), observed(lambda: 0.3), 1e-9, True) is None
    nan = [math.nan, 1.0]
    assert difference(observed(lambda: nan), observed(lambda: list(nan)), 1e-9, True) is None
    assert difference(observed(lambda: 1.0), observed(lambda: 1.1), 0.2, True) is None


def test_exceptions_compare_type_and_for_recorded_calls_message() -> None:
    value_a = observed(lambda: int("a"))
    value_b = observed(lambda: int("b"))
    index = observed(lambda: [][0])
    assert "raises ValueError" in (difference(value_a, value_b, 1e-9, messages=True) or "")
    assert difference(value_a, value_b, 1e-9, messages=False) is None
    assert "raises IndexError" in (difference(value_a, index, 1e-9, messages=False) or "")


def test_mutated_arguments_and_aliasing_are_behaviour() -> None:
    def pure(xs: list[int]) -> int:
        return len(xs)

    def mutating(xs: list[int]) -> int:
        xs.append(0)
        return len(xs) - 1

    why = difference(observed(pure, [2, 1]), observed(mutating, [2, 1]), 1e-9, True)
    assert (
        why
        == "leaves the arguments different: argument 1 (length) is 3 where the original leaves 2"
    )

    def sort_copy(xs: list[int]) -> list[int]:
        return sorted(xs)

    def sort_in_place(xs: list[int]) -> list[int]:
        xs.sort()
        return xs

    # Already sorted: the same values, but the result is the argument itself, so a caller
    # mutating one would see it in the other.
    why = difference(observed(sort_copy, [1, 2]), observed(sort_in_place, [1, 2]), 1e-9, True)
    assert why is not None and "argument 1 is <an object seen before>" in why


class Level(int):
    """An int subclass: described as a scalar with its type, never passed through as an int."""


@pytest.mark.parametrize(
    ("value", "described"),
    [
        ([1, 2.5, True, None], ["seq", "list", [1, 2.5, True, None]]),
        ((1, 2), ["seq", "tuple", [1, 2]]),
        ({1: 2.0, 3: None}, ["map", "dict", [[1, 2.0], [3, None]]]),
        ([1, Level(2)], ["seq", "list", [1, ["scalar", f"{__name__}.Level", "2"]]]),
        ({Level(1): 2}, ["map", "dict", [[["scalar", f"{__name__}.Level", "1"], 2]]]),
        ([1, "a"], ["seq", "list", [1, "a"]]),
        ([[1], [1]], ["seq", "list", [["seq", "list", [1]], ["seq", "list", [1]]]]),
    ],
)
def test_containers_of_plain_numbers_are_described_as_item_by_item(
    value: Any, described: Any
) -> None:
    """Lists, tuples and dicts of only ints, floats, bools and None take a quicker path (every
    timed sample digests its call's arguments): its description must be the one item by item."""
    assert describe(value) == described


def test_objects_with_slots_and_generators_are_described() -> None:
    slotted = describe(Slotted())
    assert slotted[:2] == ["obj", "tests.test_observe.Slotted"]
    assert slotted[2][2] == [["a", 1]]  # b is not set
    generated = observed(lambda: (x * x for x in range(3)))
    assert generated["returned"] == ["iter", "generator", [0, 1, 4]]


def test_a_generator_that_fails_midway_is_compared_on_both() -> None:
    def failing() -> Any:
        yield 1
        raise KeyError("k")

    seen = observed(failing)
    assert seen["returned"][2] == [1] and seen["raised"] == ["KeyError", "'k'"]


def test_calls_render_as_argument_lists() -> None:
    arguments = describe(((1, "a", [2.5]), {"key": None}))
    assert render_call(arguments) == "(1, 'a', [2.5], key=None)"
    assert render(describe(list(range(100))), limit=20).endswith("…")


class Half:
    """A constructor sets what ``__repr__``, ``__eq__`` and ``__hash__`` need: ``self`` on
    entry to ``__init__`` (as a recorded call holds it) has none of it."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value: str) -> None:
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        return f"Half({self.kind!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Half) and (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self) -> int:
        return hash((self.kind, self.value))


class Unprintable(Exception):
    def __str__(self) -> str:
        raise AttributeError("no message yet")


def test_a_half_built_object_is_described_the_same_each_time() -> None:
    """Reading it runs code that fails: the failure is its description, the same in every
    process, never a crash of the one describing it."""
    half = object.__new__(Half)
    assert describe(half) == describe(object.__new__(Half))
    assert describe(half)[:2] == ["obj", "tests.test_observe.Half"]
    assert describe({"nested": [half]})[2][0][1][2][0] == describe(half)
    built = observed(Half.__init__, object.__new__(Half), "keyword", "select")
    assert built["returned"] is None
    assert built["args"][2][0][2][0][2] == [
        "map",
        "dict",
        [["kind", "keyword"], ["value", "select"]],
    ]
    assert (
        difference(
            built, observed(Half.__init__, object.__new__(Half), "keyword", "select"), 1e-9, True
        )
        is None
    )


def test_an_exception_whose_message_fails_is_still_an_outcome() -> None:
    def refuse() -> None:
        raise Unprintable

    seen = observed(refuse)
    assert seen["raised"][0] == "tests.test_observe.Unprintable"
    assert digest(seen) == digest(observed(refuse))

"""Inputs from the function's real domain (issue 12): the generator keeps what every real call
showed, and anything else is a probe. The harness module runs here, in the test process, on
functions of our own: it is the same code the sandbox runs on the original."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "agent" / "_harness"
sys.path.insert(0, str(HARNESS))

import evolver_inputs as inputs  # noqa: E402
import evolver_observe as observe  # noqa: E402


def _domain(*values: Any) -> inputs.Domain:
    return inputs.domain_of(list(values))


@pytest.mark.parametrize(
    ("seen", "inside", "outside"),
    [
        # numbers keep their sign; zero is always on their side
        ([3, 17, 8], [0, 5, 17], [-1, 18, 2.0, True, None]),
        ([-4, 9], [-4, 0, 9], [-5, 10]),
        # strings keep their alphabet, by character class, and length
        (["ab,cd", "Hello,x"], ["", "zz,QQ", "a,b,c"], ["a;b", "é", ["ab"], "a" * 8]),
        # sorted lists stay sorted; items keep their type
        ([[1, 4, 9], [0, 2, 2, 7]], [[], [3, 3], [1, 2, 5]], [[5, 1], [1, "a"], [[1]], (1, 2)]),
        # items always strings: an unhashable item is not in the domain
        ([["b", "a", "c"], ["x"]], [["z", "q"]], [["a", ["b"]], ["a", 1]]),
        # a grid: equal-length rows of ints
        (
            [[[1, 2], [3, 4]], [[5, 6, 7]]],
            [[[0, 0, 0], [1, 1, 1]], []],
            [[[1], [2, 3]], [[1, [2]]]],
        ),
        # intervals: pairs in order
        ([[(1, 3), (2, 6)], [(8, 10)]], [[(0, 0), (4, 7)]], [[(3, 1)], [(1, 2, 3)], [1, (2, 3)]]),
        # a fixed key set
        (
            [{"a": 1, "b": "x"}, {"a": 5, "b": "yy"}],
            [{"a": 0, "b": ""}],
            [{"a": 1}, {"a": 1, "c": 2}],
        ),
    ],
)
def test_the_domain_keeps_what_every_real_value_showed(
    seen: list[Any], inside: list[Any], outside: list[Any]
) -> None:
    domain = inputs.domain_of(seen)
    for value in seen + inside:
        assert domain.admits(value), value
    for value in outside:
        assert not domain.admits(value), value


def test_duplicates_are_in_the_domain_unless_no_real_value_ever_had_one() -> None:
    unique = _domain(list(range(0, 20, 2)), [1, 5, 7])
    assert not unique.admits([1, 1])
    chance = _domain([1, 5], [2, 9])  # too few items to say they are kept unique
    assert chance.admits([1, 1])


def test_hints_and_defaults_widen_the_domain() -> None:
    def scale(values: list[int], factor: float | None = None) -> list[float]:
        return [v * (factor or 1) for v in values]

    _signature, found = inputs.parameters(scale, [(([1, 2],), {"factor": 2.0})])
    assert found["factor"].domain.admits(None)  # the hint, and the default
    assert not found["values"].domain.admits(None)  # never seen, never hinted


def _calls(blobs: list[bytes]) -> list[Any]:
    return [pickle.loads(blob) for blob in blobs]


def test_generated_calls_stay_in_the_domain_and_probes_leave_it() -> None:
    def position(sorted_items: list[int], wanted: int) -> int:
        for number, item in enumerate(sorted_items):
            if item >= wanted:
                return number
        return len(sorted_items)

    recorded = [((sorted([5, 3, 9, 12, 40, 1]), 9), {}), ((list(range(0, 60, 3)), 31), {})]
    blobs = [pickle.dumps(call) for call in recorded]
    calls, probes, note = inputs.generate(position, blobs, 30, 15)
    assert note is None and len(calls) >= 20 and len(probes) >= 10
    _signature, found = inputs.parameters(position, recorded)
    for args, _kwargs in _calls(calls):
        assert args[0] == sorted(args[0]) and all(type(x) is int and x >= 0 for x in args[0])
        assert inputs.in_domain(found, dict(zip(("sorted_items", "wanted"), args, strict=True)))
    for args, _ in _calls(probes):
        assert not inputs.in_domain(found, dict(zip(("sorted_items", "wanted"), args, strict=True)))
    # among the probes: the right items, unsorted (the structure relaxed, not only the types)
    relaxed = [args[0] for args, _ in _calls(probes) if type(args[0]) is list]
    assert any(
        items != sorted(items) and all(type(x) is int and x >= 0 for x in items)
        for items in relaxed
    )
    assert [len(b) for b in calls] == sorted(len(b) for b in calls)  # smallest first
    assert not set(calls) & set(blobs)  # the real calls are not generated again


def test_the_edges_of_a_range_and_its_smallest_numbers_are_always_drawn() -> None:
    """Not left to chance among a wide range: where off-by-one and special cases live (a
    rewrite that counts a perfect square's root twice differs only on squares, and no real
    call below had one)."""

    def divisors(n: int) -> int:
        return sum(1 for d in range(1, n + 1) if n % d == 0)

    recorded = [((n,), {}) for n in (0, 20011, 30030, 65520)]
    calls, _, _ = inputs.generate(divisors, [pickle.dumps(call) for call in recorded], 40, 5)
    drawn = {args[0] for args, _ in _calls(calls)}
    assert {1, 2, 3, 4, 65519} <= drawn, sorted(drawn)
    assert all(0 <= n <= 65520 for n in drawn)


def test_unhashable_items_from_the_tests_are_in_the_domain() -> None:
    def unique(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if item not in out:
                out.append(item)
        return out

    workload = [((["a", "b", "a"],), {})]
    tests = [(([["x"], ["y"], ["x"]],), {})]
    blobs = [pickle.dumps(call) for call in workload + tests]
    calls, _, _ = inputs.generate(unique, blobs, 60, 10)
    generated = [args[0] for args, _ in _calls(calls)]
    assert any(any(type(item) is list for item in items) for items in generated)


def test_nothing_to_go_on_is_said() -> None:
    def mystery(thing):  # type: ignore[no-untyped-def]
        return thing

    assert inputs.generate(mystery, [], 10, 5) == ([], [], inputs_note())


def inputs_note() -> str:
    return "no recorded calls or type hints to generate inputs from"


def _raised(function: Any, *args: Any) -> dict[str, Any]:
    return observe.outcome(observe.call(function, args, {}), args, {})


def test_an_exception_from_a_raise_statement_is_marked_explicit() -> None:
    def first_word(text: str) -> str:
        words = text.split()
        if not words:
            raise ValueError("no words")
        return words[0]

    def first_word_fast(text: str) -> str:
        return text.split(maxsplit=1)[0]

    assert _raised(first_word, "").get("explicit") is True
    assert "explicit" not in _raised(first_word_fast, "")  # an operation failed: IndexError
    assert "explicit" not in _raised(first_word, "a b")


# The graded judgement (agent.verify.equivalence.judge), on outcomes as the observer writes them.

from agent.domain import ProbeDifference  # noqa: E402
from agent.verify.answers import ObserveAnswer, digest  # noqa: E402
from agent.verify.equivalence import Behaviour, judge  # noqa: E402

ARGS = [
    "seq",
    "tuple",
    [["seq", "tuple", [["seq", "list", [["seq", "list", []]]]]], ["map", "dict", []]],
]
RETURNS_0 = {"returned": 0, "args": ARGS}
KEY_ERROR = {"raised": ["KeyError", "x"], "args": ARGS}
TYPE_ERROR = {"raised": ["TypeError", "unhashable type: 'list'"], "args": ARGS}
VALUE_ERROR = {"raised": ["ValueError", "no words"], "args": ARGS, "explicit": True}


def _judged(
    origin: str,
    was: dict[str, Any],
    now: dict[str, Any],
    strict: bool = False,
    shared: tuple[bool | None, bool | None] = (False, False),
) -> Any:
    behaviour = Behaviour(
        [b"call"], [origin], [was], [digest(was)], [ARGS], [0.001], frozenset({0}),
        shared=[shared[0]],
    )  # fmt: skip
    answer = ObserveAnswer(
        observations=[now],
        digests=[digest(now)],
        seconds=[0.001],
        inputs=[ARGS],
        timed_out_at=None,
        shared=[shared[1]],
    )
    return judge(behaviour, answer, "pkg.grid_sum", [2.0], 1e-9, strict)


def test_real_calls_are_exact_to_the_message() -> None:
    other_message = {"raised": ["KeyError", "y"], "args": ARGS}
    found = _judged("recorded", KEY_ERROR, other_message)
    assert (
        found.reason
        == "on a recorded call ([[]]): raises KeyError('y') where the original raises KeyError('x')"
    )
    assert _judged("test", KEY_ERROR, other_message).reason.startswith(
        "on a call from the tests ([[]])"
    )


def test_generated_calls_the_original_fails_on_need_only_fail_too() -> None:
    assert _judged("generated", KEY_ERROR, TYPE_ERROR).reason is None
    assert _judged("generated", KEY_ERROR, RETURNS_0).reason == (
        "on a generated call ([[]]): returns 0 where the original raises KeyError('x')"
    )
    # a raise of the original's own is its contract: the type must match
    assert _judged("generated", VALUE_ERROR, TYPE_ERROR).reason.startswith(
        "on a generated call ([[]]): raises TypeError("
    )
    assert (
        _judged("generated", VALUE_ERROR, {**VALUE_ERROR, "raised": ["ValueError", "empty"]}).reason
        is None
    )


def test_a_difference_on_a_probe_is_evidence_unless_strict() -> None:
    found = _judged("probe", KEY_ERROR, TYPE_ERROR)
    assert found.reason is None and found.probes_differing == 1
    assert found.probe_differences == (
        ProbeDifference(
            "grid_sum([[]])",
            "raises TypeError(\"unhashable type: 'list'\") where the original raises KeyError('x')",
        ),
    )
    strict = _judged("probe", RETURNS_0, TYPE_ERROR, strict=True)
    assert strict.reason is not None and strict.reason.startswith(
        "on a probe call ([[]]): raises TypeError"
    )


def test_a_result_shared_with_the_next_call_differs_from_fresh_ones() -> None:
    """Equal results, but the candidate hands the same list to every caller (a cache)."""
    cached = _judged("recorded", RETURNS_0, RETURNS_0, shared=(False, True)).reason
    assert cached.startswith("on a recorded call ([[]]): returns on the same call again an object")
    assert "a caller that changes one result changes the next" in cached
    fresh = _judged("test", RETURNS_0, RETURNS_0, shared=(True, False)).reason
    assert "returns new objects on the same call again" in fresh
    assert _judged("recorded", RETURNS_0, RETURNS_0, shared=(True, True)).reason is None
    # Not known on one side (it raised, or ran past its limit on the repeat): not compared.
    assert _judged("recorded", RETURNS_0, RETURNS_0, shared=(None, True)).reason is None

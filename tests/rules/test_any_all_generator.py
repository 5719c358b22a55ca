import pytest

from agent.providers.rules.any_all_generator import AnyAllGenerator
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = AnyAllGenerator()

SOURCE = """
def check(xs, d, limit):
    big = any([x > limit and x.real >= 0 for x in xs if isinstance(x, int)])
    small = all([
        abs(v) < limit
        for k, v in d.items()
        if k not in (None, "")
    ])
    nested = any([len(row) == 0 for row in xs for _ in range(2) if not isinstance(row, int)])
    total = sum([x for x in xs if isinstance(x, int)])
    return big, small, nested, total


def untouched(xs):
    return any([x for x in xs])
"""


def test_rewrites_any_and_all_but_not_sum() -> None:
    after = rewrite(RULE, SOURCE, "check")
    assert after is not None
    assert "big = any(x > limit and x.real >= 0 for x in xs if isinstance(x, int))" in after
    assert "small = all(\n        abs(v) < limit\n" in after
    assert 'if k not in (None, "")\n    )' in after
    assert "nested = any(len(row) == 0 for row in xs for _ in range(2)" in after
    assert "total = sum([x for x in xs if isinstance(x, int)])" in after
    assert after.endswith(SOURCE[SOURCE.index("def untouched") :])
    inputs = [
        ([], {}, 0),
        ([1, 2, 3], {"a": 1, "b": -5}, 2),
        ([0, 0, "s", [], [1]], {None: 100, "": 100, "k": 1}, 3),
        ([5, 5, 5], {1: 1, 2: 2}, 10),
        ([-1, True], {"x": 0}, -2),
    ]
    assert_same_behaviour(SOURCE, after, "check", inputs)


def test_single_argument_with_trailing_comma_and_strings() -> None:
    before = """
def has_word(text: str, words: list[str]) -> bool:
    parts = text.split()
    return any([p in words for p in parts],) or all([c in "xyz" for c in text.strip()])
"""
    after = rewrite(RULE, before, "has_word")
    assert after is not None
    assert "return any(p in words for p in parts) or all(c in" in after
    inputs = [("", []), ("A b", ["b"]), ("zzy", []), (" x ", ["q"]), ("a a", ["a"])]
    assert_same_behaviour(before, after, "has_word", inputs)


def test_an_element_that_would_raise_after_the_decisive_one_no_longer_raises() -> None:
    before = """
def f(xs):
    return any([1 / x > 0 for x in xs])
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    # Behaviour is the same wherever the original did not raise...
    assert_same_behaviour(before, after, "f", [([],), ([1, 2],), ([-1, 0],), ([0],)])
    # ...and on an input where it raised only past the decisive element, the rewrite returns:
    # the documented relaxation.
    namespace: dict[str, object] = {}
    exec(after, namespace)
    assert namespace["f"]([1, 0]) is True  # type: ignore[operator]


@pytest.mark.parametrize(
    "expr",
    [
        "any([f(x) for x in xs])",  # arbitrary call
        "any([x.pop() for x in xs])",  # method call with an effect
        "any([x[0] for x in xs])",  # subscripts are not on the list
        "any([x for x in xs.pop()])",  # the iterable has an effect
        "any([x for x in map(str, xs)])",
        "any([x for x in (y for y in xs)])",
        "any([x for x in xs for y in f(x)])",  # inner iterables run per element
        "any([lambda: x for x in xs])",
        "any([(y := x) for x in xs])",
        "any([f'{x}' for x in xs])",  # formatting calls __format__
        "any([x for x in xs], key=1)",
        "any(*[x for x in xs])",
        "any([x async for x in xs])",
        "sum([x for x in xs])",
        "max([x for x in xs])",
        "any({x for x in xs})",
    ],
)
def test_does_not_fire_on_effects_or_other_calls(expr: str) -> None:
    source = f"""
def g(xs):
    return {expr}
"""
    assert rewrite(RULE, source, "g") is None


def test_does_not_fire_when_the_builtins_are_shadowed() -> None:
    source = """
def any(xs):
    return True


def f(xs):
    return any([x for x in xs])


def g(xs, len):
    return all([len(x) for x in xs])
"""
    assert rewrite(RULE, source, "f") is None
    assert rewrite(RULE, source, "g") is None


def test_does_not_leave_a_local_iterator_half_consumed() -> None:
    source = """
def rest_after(xs):
    it = iter(xs)
    found = any([x > 2 for x in it])
    return found, list(it)


def from_genexp(xs):
    gen = (x for x in xs)
    return any([x for x in gen]), list(gen)


def collection(xs):
    ys = sorted(xs)
    return any([y > 2 for y in ys]), ys
"""
    assert rewrite(RULE, source, "rest_after") is None
    assert rewrite(RULE, source, "from_genexp") is None
    after = rewrite(RULE, source, "collection")
    assert after is not None and "any(y > 2 for y in ys)" in after
    assert_same_behaviour(source, after, "collection", [([],), ([3, 1, 2],), ([1],)])

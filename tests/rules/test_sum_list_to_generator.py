import pytest

from agent.providers.rules.sum_list_to_generator import SumListToGenerator
from tests.rules.helpers import assert_same_behaviour, load, peak, rewrite

RULE = SumListToGenerator()

SOURCE = """
def stats(xs, rows, d):
    total = sum([x * x for x in xs if x > 0])
    shifted = sum([x for x in xs], 10)
    floats = sum([y / 2 for row in rows for y in range(len(row))], start=0.5)
    shortest = min([len(r) for r in rows], default=-1, key=abs)
    top = max([
        d[k]
        for k in d
        if k is not None
    ])
    last = max([(len(r), r[0]) for r in rows if r], key=lambda p: -p[0], default=None)
    return total, shifted, floats, shortest, top, last


def untouched(xs):
    return any([x for x in xs])
"""


def test_rewrites_sum_min_and_max() -> None:
    after = rewrite(RULE, SOURCE, "stats")
    assert after is not None
    assert "total = sum(x * x for x in xs if x > 0)" in after
    # Beside other arguments, the generator keeps the brackets' place as parentheses.
    assert "shifted = sum((x for x in xs), 10)" in after
    assert "floats = sum((y / 2 for row in rows for y in range(len(row))), start=0.5)" in after
    assert "shortest = min((len(r) for r in rows), default=-1, key=abs)" in after
    assert "top = max(\n        d[k]\n        for k in d\n        if k is not None\n    )" in after
    assert "last = max(((len(r), r[0]) for r in rows if r), key=lambda p: -p[0]" in after
    assert after.endswith(SOURCE[SOURCE.index("def untouched") :])
    inputs = [
        ([], [[]], {1: 2}),
        ([1, -2, 3], [[1, 2], [3], [4, 5, 6]], {None: 9, "a": 1, "b": 7}),
        ([0.5, 2], [["x"], ["y", "z"]], {1: -1, 2: -2}),
        ([1], [], {}),  # max() of an empty sequence: ValueError
        (["s"], [[1]], {1: 1}),  # "s" > 0: TypeError
        ([1, 2], [[1]], {1: 1, 2: "a"}),  # max of an int and a str: TypeError
    ]
    assert_same_behaviour(SOURCE, after, "stats", inputs)


def test_an_element_that_raises_still_raises() -> None:
    before = """
def mean_inverse(xs):
    return sum([1 / x for x in xs]) / len(xs)
"""
    after = rewrite(RULE, before, "mean_inverse")
    assert after is not None and "return sum(1 / x for x in xs) / len(xs)" in after
    inputs = [([],), ([1, 2, 4],), ([1, 0, 2],), ([0],), ([2.0, -2.0],)]
    assert_same_behaviour(before, after, "mean_inverse", inputs)


def test_trailing_commas() -> None:
    before = """
def f(xs):
    return sum([x for x in xs],) + max([abs(x) for x in xs], default=0,)
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "return sum(x for x in xs) + max((abs(x) for x in xs), default=0,)" in after
    assert_same_behaviour(before, after, "f", [([],), ([-3, 2],), ([1.5],)])


@pytest.mark.parametrize(
    "expr",
    [
        "sum([f(x) for x in xs])",  # arbitrary call: an effect the reduction could see
        "sum([x.pop() for x in xs])",
        "sum([x for x in xs for y in f(x)])",  # inner iterables run between elements
        "sum([x for x in xs if f(x)])",
        "sum([(y := x) for x in xs])",
        "sum([x for x in xs if (y := x)])",
        "min([lambda: x for x in xs], key=lambda g: g())",  # late binding
        "sum([sum(y for y in x) for x in xs])",
        "sum([x for x in (lambda: xs)()])",
        "sum([f'{x}' for x in xs])",
        "sum([x async for x in xs])",
        "sum([x for x in xs], f())",  # start would run before the elements
        "sum([x for x in xs], 0, 1)",
        "sum(*[x for x in xs])",
        "sum([x for x in xs], **kw)",
        "min([x for x in xs], 0)",  # compares the list itself with 0
        "min([x for x in xs], default=f())",
        "max([x for x in xs], key=make_key())",
        "max([x for x in xs], key=lambda v: f(v))",
        "max([x for x in xs], reverse=True)",
        "max([x for x in xs], key=len, key=abs)",
        "sum([len(locals()) for x in xs])",
        "sum([super().x for x in xs])",
        "sorted([x for x in xs])",
        "set([x for x in xs])",
        "','.join([x for x in xs])",
        "sum({x for x in xs})",
        "sum(list(x for x in xs))",
    ],
)
def test_does_not_fire(expr: str) -> None:
    source = f"""
def g(xs, f, kw, make_key):
    return {expr}
"""
    assert rewrite(RULE, source, "g") is None


def test_does_not_fire_when_the_builtins_are_shadowed() -> None:
    source = """
def sum(xs, start=0):
    return 42


def f(xs):
    return sum([x for x in xs])


def g(xs, max):
    return max([x for x in xs])


def h(xs, len):
    return min([len(x) for x in xs])


def k(xs):
    min = lambda xs: xs
    return min([x for x in xs])
"""
    for name in ("f", "g", "h", "k"):
        assert rewrite(RULE, source, name) is None


def test_does_not_fire_under_a_star_import() -> None:
    source = """
from helpers import *


def f(xs):
    return sum([x for x in xs])
"""
    assert rewrite(RULE, source, "f") is None


def test_the_rewrite_halves_peak_memory() -> None:
    before = """
def sum_of_squares(n):
    return sum([i * i for i in range(n)])
"""
    after = rewrite(RULE, before, "sum_of_squares")
    assert after is not None and "sum(i * i for i in range(n))" in after
    original, rewritten = load(before, "sum_of_squares"), load(after, "sum_of_squares")
    n = 200_000
    assert original(n) == rewritten(n)
    assert peak(rewritten, n) * 2 <= peak(original, n)

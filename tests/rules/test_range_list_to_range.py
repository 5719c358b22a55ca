import pytest

from agent.providers.rules.range_list_to_range import RangeListToRange
from tests.rules.helpers import assert_same_behaviour, load, peak, rewrite

RULE = RangeListToRange()

LOOPS = """
def walk(a, b, c):
    out = []
    for i in list(range(a, b, c)):
        out.append(i)
    else:
        out.append("done")
    pairs = [(i, j) for i in list(range(a)) for j in list(range(i)) if j % 2]
    lazy = sum(k for k in list(range(b)))
    return out, pairs, lazy, {k: k * k for k in list(range(c))}
"""


def test_loops_and_comprehensions_iterate_the_range() -> None:
    after = rewrite(RULE, LOOPS, "walk")
    assert after is not None
    assert "for i in range(a, b, c):" in after
    assert "[(i, j) for i in range(a) for j in range(i) if j % 2]" in after
    assert "sum(k for k in range(b))" in after
    assert "{k: k * k for k in range(c)}" in after
    assert "list(" not in after
    inputs = [
        (0, 0, 1),
        (0, 10, 3),
        (5, -5, -2),
        (3, 7, 2),
        (1, 2, 0),  # step 0: ValueError
        (1.5, 2, 1),  # a float: TypeError
        (-3, 4, 10),
    ]
    assert_same_behaviour(LOOPS, after, "walk", inputs)


NAMED = """
def lookup(n, probes):
    idx = list(range(n))
    total = 0
    for i in idx:
        total += i
    hits = [p for p in probes if p in idx]
    misses = [p for p in probes if p not in idx]
    picked = [idx[p] for p in probes if -len(idx) <= p < len(idx)]
    return total, hits, misses, picked, len(idx), idx[-1]
"""


def test_a_local_only_read_as_a_sequence_becomes_the_range() -> None:
    after = rewrite(RULE, NAMED, "lookup")
    assert after is not None
    assert "    idx = range(n)\n" in after
    assert "for i in idx:" in after and "idx[-1]" in after
    inputs = [
        (0, []),  # idx[-1] of an empty list or range: IndexError
        (1, [0, -1, 1, 2.0, True, False]),
        (10, [3, 9, 10, -10, -11, 2.0, 0.5]),
        (10, [4.5]),  # a float index: TypeError
        (5, ["x"]),  # -5 <= "x": TypeError
        (-2, [0]),
    ]
    assert_same_behaviour(NAMED, after, "lookup", inputs)


@pytest.mark.parametrize(
    "body",
    [
        "xs = list(range(n))\n    xs.append(n)\n    return len(xs)",  # mutated
        "xs = list(range(n))\n    xs[0] = 1\n    return len(xs)",
        "xs = list(range(n))\n    xs[0] += 1\n    return len(xs)",
        "xs = list(range(n))\n    del xs[0]\n    return len(xs)",
        "xs = list(range(n))\n    for xs[0] in [1]:\n        pass\n    return len(xs)",
        "xs = list(range(n))\n    xs += [1]\n    return len(xs)",
        "xs = list(range(n))\n    return xs",  # returned
        "xs = list(range(n))\n    ys = xs\n    return len(ys)",  # aliased
        "xs = list(range(n))\n    return f(xs)",  # passed on
        "xs = list(range(n))\n    return xs[1:]",  # a slice of a range is a range
        "xs = list(range(n))\n    return xs == [0]",  # a range is never equal to a list
        "xs = list(range(n))\n    return xs.index(1)",
        "xs = list(range(n))\n    return 1 if xs else 0",
        "xs = list(range(n))\n    return str(xs)",
        "xs = list(range(n))\n    return len(xs), [0] + xs",
        "xs = list(range(n))\n    xs = list(range(2))\n    return len(xs)",  # bound twice
        "xs = ys = list(range(n))\n    return len(xs)",
        "xs: list[int] = list(range(n))\n    return len(xs)",
        "xs = list(range(n))\n    return lambda: len(xs)",  # captured
        "xs = list(range(n))\n    def g():\n        return len(xs)\n    return g()",
        "xs = list(range(n))\n    return len(xs), locals()",
        "global xs\n    xs = list(range(n))\n    return len(xs)",
        "xs = list(range(n))\n    return [xs for xs in f(n)]",  # a second binding
        "xs = list(range(n))\n    return xs in f(n)",
        "xs = list(range(n))\n    return len(xs, n)",
        "return list(range(n))",
        "return f(list(range(n)))",
        "return list(range(n)) + [1]",
        "return list(range(n))[0]",
        "return list(*range(n))",
        "return list(range(n), key=1)",
        "for x in list(map(f, range(n))):\n        pass",
        "for x in list(  # the numbers\n        range(n)):\n        pass",
    ],
)
def test_does_not_fire(body: str) -> None:
    source = f"""
def g(n, f):
    {body}
"""
    assert rewrite(RULE, source, "g") is None


def test_does_not_fire_when_the_builtins_are_shadowed() -> None:
    source = """
def range(n):
    return [3, 1, 2]


def f(n):
    return [x for x in list(range(n))]


def g(n, list):
    return [x for x in list(range(n))]
"""
    assert rewrite(RULE, source, "f") is None
    assert rewrite(RULE, source, "g") is None


def test_the_rewrite_halves_peak_memory() -> None:
    before = """
def total(n):
    seen = list(range(n))
    t = 0
    for i in list(range(n)):
        t += i
    return t + len(seen) + seen[-1]
"""
    after = rewrite(RULE, before, "total")
    assert after is not None and "list(" not in after
    original, rewritten = load(before, "total"), load(after, "total")
    n = 200_000
    assert original(n) == rewritten(n)
    assert peak(rewritten, n) * 2 <= peak(original, n)

import pytest

from agent.providers.rules.append_to_comprehension import AppendToComprehension
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = AppendToComprehension()

NUMBERS = [([],), ([1, 2, 2, 3, -4],), ([0, 0],)]


def test_plain_and_filtered_loops_become_comprehensions() -> None:
    before = """
def f(xs):
    doubled = []  # keep me
    # double everything
    for x in xs:
        doubled.append(x * 2)
    evens: list[int] = []
    for x in xs:
        if x % 2 == 0:
            evens.append(x)
    return doubled, evens
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert (
        "    # double everything\n    doubled = [x * 2 for x in xs]  # keep me\n"
        "    evens: list[int] = [x for x in xs if x % 2 == 0]\n    return doubled, evens\n"
    ) in after
    assert_same_behaviour(before, after, "f", NUMBERS)


def test_unpacking_one_line_bodies_and_parentheses() -> None:
    before = """
def f(pairs, flag):
    out = []
    for k, (a, *rest) in pairs: out.append((k, a, rest))
    gens = []
    for k, v in pairs if flag else ():
        if v if flag else k:
            gens.append(y for y in str(k))
    return out, [list(g) for g in gens]
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "    out = [(k, a, rest) for k, (a, *rest) in pairs]\n" in after
    assert (
        "    gens = [\n"
        "        (y for y in str(k))\n"
        "        for k, v in (pairs if flag else ())\n"
        "        if (v if flag else k)\n"
        "    ]\n"
    ) in after
    pairs = [(1, [2]), (0, [3, 4]), (1, [2])]
    inputs = [([], True), (pairs, True), (pairs, False), ([(5, "")], True)]
    assert_same_behaviour(before, after, "f", inputs)


def test_reused_loop_variable_goes_last_first() -> None:
    before = """
def f(xs):
    a = []
    for x in xs:
        a.append(x + 1)
    b = []
    for x in xs:
        b.append(x - 1)
    return a, b
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "    a = [x + 1 for x in xs]\n    b = [x - 1 for x in xs]\n" in after
    assert_same_behaviour(before, after, "f", NUMBERS)


def test_inside_try_when_result_is_only_used_after_in_the_same_block() -> None:
    before = """
def f(xs):
    try:
        out = []
        for x in xs:
            out.append(10 // x)
        return out
    except ZeroDivisionError:
        return None
"""
    after = rewrite(RULE, before, "f")
    assert after is not None and "        out = [10 // x for x in xs]\n" in after
    assert_same_behaviour(before, after, "f", NUMBERS)


@pytest.mark.parametrize(
    "source",
    [
        # The loop variable is used after the loop, or in an enclosing loop.
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(x)\n    return r, x\n",
        "def f(xss):\n    for xs in xss:\n        r = []\n        for x in xs:\n"
        "            r.append(x)\n        print(x)\n",
        "def f(xs):\n    g = lambda: x\n    r = []\n    for x in xs:\n        r.append(x)\n"
        "    return r, g\n",
        "def f(xs):\n    global x\n    r = []\n    for x in xs:\n        r.append(x)\n",
        # Other shapes: not adjacent, else, elif, two statements, a keyword, other methods.
        "def f(xs):\n    r = []\n    n = 0\n    for x in xs:\n        r.append(x)\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(x)\n    else:\n"
        "        r.append(0)\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        if x:\n            r.append(x)\n"
        "        else:\n            r.append(0)\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(x)\n        r.append(x)\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.extend(x)\n",
        "def f(xs):\n    r = [0]\n    for x in xs:\n        r.append(x)\n",
        "def f(xs):\n    r = []\n    for x.y in xs:\n        r.append(x)\n",
        # The list is read while it fills up.
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(len(r))\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        if r:\n            r.append(x)\n",
        "def f(xs):\n    r = []\n    for x in r:\n        r.append(x)\n",
        "def f(xs):\n    size = lambda: len(r)\n    r = []\n    for x in xs:\n"
        "        r.append(size())\n",
        # An error caught half-way would expose a different list.
        "def f(xs):\n    try:\n        r = []\n        for x in xs:\n            r.append(1 // x)\n"
        "    except ZeroDivisionError:\n        return r\n",
        # Lambdas, walrus, yield, and builtins that see the comprehension's own scope.
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(lambda: x)\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(y := x)\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append((yield x))\n",
        "def f(self, xs):\n    r = []\n    for x in xs:\n        r.append(super().g(x))\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(locals())\n",
        # The loop variable would be missing from what these see after the loop.
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(x)\n    return locals()\n",
        "def f(xs):\n    r = []\n    for x in xs:\n        r.append(x)\n    return eval('x')\n",
        # A comment in the loop would be lost.
        "def f(xs):\n    r = []\n    for x in xs:\n        # note\n        r.append(x)\n",
    ],
)
def test_does_not_fire(source: str) -> None:
    assert rewrite(RULE, source, "f") is None


def test_nested_functions_and_other_functions_are_left_alone() -> None:
    source = """
def other(xs):
    r = []
    for x in xs:
        r.append(x)
    return r


def f(xs):
    def inner(ys):
        s = []
        for y in ys:
            s.append(y)
        return s

    r = []
    for x in xs:
        r.append(x)
    return r, inner
"""
    after = rewrite(RULE, source, "f")
    assert after is not None
    assert after.startswith("def other(xs):\n    r = []\n    for x in xs:\n        r.append(x)\n")
    assert "        s = []\n        for y in ys:\n            s.append(y)\n" in after
    assert "    r = [x for x in xs]\n    return r, inner\n" in after


def test_a_long_comprehension_gets_one_part_per_line() -> None:
    before = """
def f(enumeration):
    duplicates = []
    for name, member in enumeration.__members__.items():
        if name != member.name:
            duplicates.append((name, member.name))
    return duplicates
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert (
        "    duplicates = [\n"
        "        (name, member.name)\n"
        "        for name, member in enumeration.__members__.items()\n"
        "        if name != member.name\n"
        "    ]\n"
    ) in after

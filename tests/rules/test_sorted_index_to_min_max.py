from operator import itemgetter

import pytest

from agent.providers.rules.sorted_index_to_min_max import SortedIndexToMinMax
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = SortedIndexToMinMax()

# Ties on the key: which of the tied elements comes out is observable.
TIED = [(1, "a"), (0, "b"), (2, "c"), (0, "d"), (2, "e")]
INPUTS = [
    ([], itemgetter(0)),
    ([(5, "x")], itemgetter(0)),
    (TIED, itemgetter(0)),
    (TIED[::-1], itemgetter(0)),
    ([3, 1, 3, 1], abs),
    ("banana", str.upper),
]


def test_after_an_early_return_with_and_without_key() -> None:
    before = """
def f(xs, k):
    if not xs:
        return None
    lo = sorted(xs)[0]
    hi = (sorted(xs)[-1])
    first_lo = sorted(xs, key=k)[0]
    first_hi = sorted(xs, reverse=True, key=k)[0]
    also_hi = sorted(xs, reverse=True)[0]
    also_lo = sorted(xs, reverse=False)[-1]
    return lo, hi, first_lo, first_hi, also_hi, also_lo
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "lo = min(xs)\n" in after
    assert "hi = (max(xs))\n" in after
    assert "first_lo = min(xs, key=k)\n" in after
    assert "first_hi = max(xs, key=k)\n" in after
    assert "also_hi = max(xs)\n" in after
    assert "also_lo = max(xs)\n" in after
    assert_same_behaviour(before, after, "f", INPUTS)


def test_inside_branches_that_need_a_non_empty_list() -> None:
    before = """
def f(xs, k):
    head = sorted(xs, key=k)[0] if xs else None
    tail = None if len(xs) == 0 else sorted(xs)[-1]
    if len(xs) > 0 and sorted(xs)[0] != xs[0]:
        return head, tail, "unsorted"
    for _ in range(2):
        if xs:
            tail = sorted(xs)[-1]
    return head, tail, len(xs) >= 1 and sorted(xs, reverse=True)[-1]
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "head = min(xs, key=k) if xs else None" in after
    assert "tail = None if len(xs) == 0 else max(xs)" in after
    assert "if len(xs) > 0 and min(xs) != xs[0]:" in after
    assert "            tail = max(xs)\n" in after
    assert "len(xs) >= 1 and min(xs)\n" in after
    assert_same_behaviour(before, after, "f", INPUTS)


@pytest.mark.parametrize(
    "source",
    [
        # Emptiness not handled: IndexError would become ValueError.
        "def f(xs):\n    return sorted(xs)[0]\n",
        "def f(xs, y):\n    return sorted(xs)[0] if xs or y else None\n",
        "def f(xs, ys):\n    if not ys:\n        return None\n    return sorted(xs)[0]\n",
        "def f(xs):\n    if not xs:\n        print(xs)\n    return sorted(xs)[0]\n",
        "def f(xs):\n    if len(xs) > 1:\n        pass\n    else:\n        return sorted(xs)[0]\n",
        # Changed or rebound between the test and the use.
        "def f(xs):\n    if not xs:\n        return None\n    xs = xs[1:]\n"
        "    return sorted(xs)[0]\n",
        "def f(xs):\n    if xs:\n        xs.pop()\n        return sorted(xs)[0]\n",
        "def f(xs):\n    if xs:\n        del xs[0]\n        return sorted(xs)[0]\n",
        "def f(xs):\n    if xs:\n        xs[0] += 1\n        return sorted(xs)[0]\n",
        "def f(xs, g):\n    if xs:\n        g(xs)\n        return sorted(xs)[-1]\n",
        "def f(ys):\n    global xs\n    if xs:\n        return sorted(xs)[0]\n",
        # The last of the tied maxima is not what max returns.
        "def f(xs, k):\n    if xs:\n        return sorted(xs, key=k)[-1]\n",
        "def f(xs, k):\n    if xs:\n        return sorted(xs, key=k, reverse=True)[-1]\n",
        "def f(xs, r):\n    if xs:\n        return sorted(xs, reverse=r)[0]\n",
        # Other indexes, other arguments, other functions.
        "def f(xs):\n    if xs:\n        return sorted(xs)[1]\n",
        "def f(xs):\n    if xs:\n        return sorted(xs)[:1]\n",
        "def f(xs):\n    if xs:\n        return sorted(xs[1:])[0]\n",
        "def f(xs):\n    if xs:\n        return reversed(xs)[0]\n",
        # Builtins shadowed.
        "def f(xs, max):\n    if xs:\n        return sorted(xs)[-1]\n",
        "from numpy import min\ndef f(xs):\n    if xs:\n        return sorted(xs)[0]\n",
        # Runs later (lambda), or is a store.
        "def f(xs):\n    if xs:\n        return lambda: sorted(xs)[0]\n",
        "def f(xs):\n    if xs:\n        sorted(xs)[0] = 1\n",
    ],
)
def test_does_not_fire(source: str) -> None:
    assert rewrite(RULE, source, "f") is None


def test_nested_functions_and_other_functions_are_left_alone() -> None:
    source = """
def other(xs):
    return sorted(xs)[0] if xs else None


def f(xs):
    def inner(ys):
        return sorted(ys)[0] if ys else None

    return (sorted(xs)[0] if xs else None), inner
"""
    after = rewrite(RULE, source, "f")
    assert after is not None
    assert after.startswith("def other(xs):\n    return sorted(xs)[0] if xs else None\n")
    assert "        return sorted(ys)[0] if ys else None\n" in after
    assert "    return (min(xs) if xs else None), inner\n" in after


def test_builtins_shadowed_only_inside_another_function_do_not_matter() -> None:
    source = """
def clamp(x, min, max):
    return x


def f(xs):
    return sorted(xs)[-1] if xs else None
"""
    after = rewrite(RULE, source, "f")
    assert after is not None and "return max(xs) if xs else None" in after
    assert rewrite(RULE, "max = len\n" + source, "f") is None


@pytest.mark.parametrize(
    "guarded",
    [
        "    if len(xs):\n        return sorted(xs)[0]\n",
        "    if xs and k:\n        return sorted(xs)[0]\n",
        "    if not xs:\n        pass\n    else:\n        return sorted(xs)[0]\n",
        "    if len(xs) == 0:\n        raise ValueError\n    k = sorted(xs)[0]\n    return k\n",
        "    if len(xs) < 1 or k is None:\n        return None\n    return sorted(xs)[0]\n",
        "    return not xs or sorted(xs)[0]\n",
    ],
)
def test_guard_forms(guarded: str) -> None:
    before = "def f(xs, k):\n" + guarded
    after = rewrite(RULE, before, "f")
    assert after is not None and "min(xs)" in after and "sorted" not in after
    assert_same_behaviour(before, after, "f", [*INPUTS, ([], None), ([2, 1], None)])

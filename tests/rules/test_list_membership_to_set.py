import pytest

from agent.providers.rules.list_membership_to_set import ListMembershipToSet
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = ListMembershipToSet()

WORDS = [
    ([],),
    (["a", "b", "a", "z"],),
    (["the", "the", "x"],),
    ([1, 2, -2, 2.0, True, None, (1, 2)],),
]


def test_literal_displays_in_loops_become_set_displays() -> None:
    before = """
def count(words):
    n = 0
    for w in words:
        if w in ["a", "the", -2, None, (1, 2)]:
            n += 1
        elif w not in ('x', b"y", 2.0, 'q', 'r'):
            n -= 1
    hits = [w for w in words if w in [True, 'z', 'y', 'x', 'w']]
    return n, hits
"""
    after = rewrite(RULE, before, "count")
    assert after is not None
    assert 'if w in {"a", "the", -2, None, (1, 2)}:' in after
    assert "elif w not in {'x', b\"y\", 2.0, 'q', 'r'}:" in after
    assert "if w in {True, 'z', 'y', 'x', 'w'}]" in after
    assert_same_behaviour(before, after, "count", WORDS)


def test_while_condition_counts_as_a_loop() -> None:
    before = """
def skip(items):
    i = 0
    while i < len(items) and items[i] in ("", " ", "-", "_", "."):
        i += 1
    return i
"""
    after = rewrite(RULE, before, "skip")
    assert after is not None and 'items[i] in {"", " ", "-", "_", "."}' in after
    assert_same_behaviour(before, after, "skip", [([],), (["", " ", "", "x", ""],), ([" "],)])


def test_local_list_gets_a_set_built_once_before_the_outermost_loop() -> None:
    before = """
def keep(rows):
    stop = ["a", "the", "a", "of", "an"]
    width = len(stop)
    out = []

    # scan every row
    for row in rows:
        for w in row:
            if w not in stop:
                out.append(w)
    return out, width, [w for w in stop]
"""
    after = rewrite(RULE, before, "keep")
    assert after is not None
    assert (
        "    out = []\n\n    # scan every row\n    stop_set = set(stop)\n    for row in rows:\n"
        in after
    )
    assert "if w not in stop_set:" in after
    # Uses outside the loop keep the original list.
    assert "width = len(stop)" in after and "[w for w in stop]" in after
    assert after.count("set(stop)") == 1
    rows = [([],), ([[]],), ([["a", "b"], ["the", "c", "c"]],), ([["x"], ["a"]],)]
    assert_same_behaviour(before, after, "keep", rows)


def test_one_set_serves_later_top_level_loops() -> None:
    before = """
def f(xs, ys):
    allowed = list(range(5))
    a = [x for x in xs if x in allowed]
    b = 0
    while b in allowed:
        b += 1
    return a, b, sum(1 for y in ys if y in allowed)
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert after.count("allowed_set = set(allowed)") == 1
    assert "    allowed_set = set(allowed)\n    a = [x for x in xs if x in allowed_set]" in after
    assert "while b in allowed_set:" in after and "y in allowed_set)" in after
    inputs = [([], []), ([1, 7, 1], [4, 4, 9]), ([0, 5, -1], [])]
    assert_same_behaviour(before, after, "f", inputs)


def test_annotated_list_parameter_and_star_args() -> None:
    before = """
def pick(xs, allowed: list[int], *banned):
    return [x for x in xs if x in allowed and x not in banned]
"""
    after = rewrite(RULE, before, "pick")
    assert after is not None
    assert "    allowed_set = set(allowed)\n    banned_set = set(banned)\n" in after
    assert "x in allowed_set and x not in banned_set" in after
    inputs = [([], []), ([1, 2, 2, 3], [2, 3, 3], 3), ([1], [], 1, 1), ([5, 5], [5])]
    assert_same_behaviour(before, after, "pick", inputs)


def test_module_constant_gets_a_frozenset_next_to_it() -> None:
    before = """
STOP_WORDS = ["a", "the", "of", "an", "to"]
OTHER = 1


def strip(words):
    return [w for w in words if w not in STOP_WORDS]
"""
    after = rewrite(RULE, before, "strip")
    assert after is not None
    assert (
        'STOP_WORDS = ["a", "the", "of", "an", "to"]\n_STOP_WORDS_SET = frozenset(STOP_WORDS)\n'
        in after
    )
    assert "if w not in _STOP_WORDS_SET]" in after
    assert_same_behaviour(before, after, "strip", [([],), (["a", "b", "of", "b"],)])


@pytest.mark.parametrize(
    "source",
    [
        # Not in a loop: the test runs once, nothing to win.
        "def f(x):\n    return x in [1, 2]\n",
        # Not all literals: a name or an f-string may be unhashable or not constant.
        "def f(xs, y):\n    return [x for x in xs if x in [1, y]]\n",
        "def f(xs, y):\n    return [x for x in xs if x in [f'{y}']]\n",
        # [] would become {}, a dict.
        "def f(xs):\n    return [x for x in xs if x in []]\n",
        # An unannotated parameter may be a string: `in` is then a substring test.
        "def f(xs, text):\n    return [x for x in xs if x in text]\n",
        "def f(xs, seq: str):\n    return [x for x in xs if x in seq]\n",
        # The local changes, is rebound, or escapes.
        "def f(xs):\n    a = [1]\n    a.append(2)\n    return [x for x in xs if x in a]\n",
        "def f(xs):\n    a = [1]\n    a += [2]\n    return [x for x in xs if x in a]\n",
        "def f(xs):\n    a = [1]\n    if xs:\n        a = [2]\n"
        "    return [x for x in xs if x in a]\n",
        "def f(xs, g):\n    a = [1]\n    g(a)\n    return [x for x in xs if x in a]\n",
        "def f(xs):\n    a = [1]\n    return [x for x in xs if x in a], a\n",
        "def f(xs):\n    a = [1]\n    del a[0]\n    return [x for x in xs if x in a]\n",
        # Bound inside the loop, or not to a list.
        "def f(xs):\n    for x in xs:\n        a = [1, 2]\n        if x in a:\n"
        "            return x\n",
        "def f(xs, g):\n    a = g()\n    return [x for x in xs if x in a]\n",
        "def f(xs):\n    a = [[1], [2]]\n    return [x for x in xs if x in a]\n",
        # The new local would show in locals().
        "def f(xs):\n    a = [1]\n    return [x for x in xs if x in a], sorted(locals())\n",
        # `set` is not the builtin.
        "from x import set\ndef f(xs):\n    a = [1]\n    return [x for x in xs if x in a]\n",
        # A module list that is changed elsewhere, or a module name rebound.
        "NAMES = [1]\ndef f(xs):\n    return [x for x in xs if x in NAMES]\n"
        "def g():\n    NAMES.append(2)\n",
        "NAMES = (1,)\nNAMES = (2,)\ndef f(xs):\n    return [x for x in xs if x in NAMES]\n",
        "names = (1,)\ndef f(xs):\n    return [x for x in xs if x in names]\n",
    ],
)
def test_does_not_fire(source: str) -> None:
    assert rewrite(RULE, source, "f") is None


def test_nested_functions_and_other_functions_are_left_alone() -> None:
    source = """
def other(xs):
    return [x for x in xs if x in [1, 2]]


def f(xs):
    def inner(ys):
        return [y for y in ys if y in [3, 4]]

    keep = lambda ys: [y for y in ys if y in [5]]
    return [x for x in xs if x in [6, 7, 8, 9, 10]], inner, keep
"""
    after = rewrite(RULE, source, "f")
    assert after is not None
    assert "if x in {6, 7, 8, 9, 10}]" in after
    assert after.startswith("def other(xs):\n    return [x for x in xs if x in [1, 2]]\n")
    assert "        return [y for y in ys if y in [3, 4]]\n" in after
    assert "lambda ys: [y for y in ys if y in [5]]" in after


def test_builtins_shadowed_only_inside_another_function_do_not_matter() -> None:
    source = """
def other(set):
    return set


def f(xs):
    a = ["a", "b", "c", "d", "e"]
    return [x for x in xs if x in a]
"""
    after = rewrite(RULE, source, "f")
    assert after is not None and "    a_set = set(a)\n" in after
    assert rewrite(RULE, "set = frozenset\n" + source, "f") is None


def test_a_second_function_reuses_the_frozenset() -> None:
    source = """
def f(words):
    return [w for w in words if w in STOP]


def g(words):
    return [w for w in words if w not in STOP]


STOP = ("a", "the", "of", "an", "to")
"""
    first = rewrite(RULE, source, "f")
    assert first is not None and first.endswith(
        'STOP = ("a", "the", "of", "an", "to")\n_STOP_SET = frozenset(STOP)\n'
    )
    second = rewrite(RULE, first, "g")
    assert second is not None and second.count("frozenset") == 1
    assert "if w not in _STOP_SET]" in second
    assert_same_behaviour(source, second, "g", [([],), (["a", "b", "the", "b"],)])


@pytest.mark.parametrize(
    ("small", "large"),
    [
        # A constant tuple or list: CPython folds it, and a scan of four is as fast as a hash.
        ("('a', 'b')", "('a', 'b', 'c', 'd', 'e')"),
        ("[1, 2, 3, 4]", "[1, 2, 3, 4, 5]"),
    ],
)
@pytest.mark.parametrize(
    "template",
    [
        "def f(xs):\n    return [x for x in xs if x not in {}]\n",
        "STOP = {}\ndef f(xs):\n    return [x for x in xs if x in STOP]\n",
        # A small local list: a set built on every call costs more than it saves.
        "def f(xs):\n    a = {}\n    return [x for x in xs if x in a]\n",
    ],
)
def test_displays_of_fewer_than_five_items_are_left_alone(
    template: str, small: str, large: str
) -> None:
    assert rewrite(RULE, template.format(small), "f") is None
    assert rewrite(RULE, template.format(large), "f") is not None

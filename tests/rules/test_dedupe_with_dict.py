import pytest

from agent.providers.rules.dedupe_with_dict import DedupeWithDict
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = DedupeWithDict()

INPUTS = [
    ([],),
    ([1],),
    ([3, 1, 3, 2, 1],),
    (["b", "a", "b", "a"],),
    ([1, True, 1.0, 0, False, None],),  # equal across types: the first one wins in both
    ((2, 2, 1),),
    (range(4),),
    ({"k": 1, "j": 2},),
    ("mississippi",),
    ([float("nan"), float("nan")],),  # distinct NaNs are never equal
]

DEDUPE = """
def unique(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def untouched(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out
"""


def test_loop_becomes_dict_fromkeys() -> None:
    after = rewrite(RULE, DEDUPE, "unique")
    assert after is not None
    assert "def unique(items):\n    out = list(dict.fromkeys(items))\n    return out\n" in after
    assert after.endswith(DEDUPE[DEDUPE.index("def untouched") :])
    assert_same_behaviour(DEDUPE, after, "unique", INPUTS)


def test_unhashable_elements_raise_where_the_original_worked() -> None:
    # The documented limit: the rule cannot see element types; the verifier's tests catch this.
    after = rewrite(RULE, DEDUPE, "unique")
    assert after is not None
    namespace: dict[str, object] = {}
    exec(after, namespace)
    with pytest.raises(TypeError):
        namespace["unique"]([[1], [1]])  # type: ignore[operator]


def test_loop_variable_used_later_keeps_the_loop_with_a_seen_set() -> None:
    before = """
def unique_last(items: list[str]) -> tuple[list[str], str]:
    x = ""
    out: list[str] = []
    for x in items:
        if x not in out: out.append(x)
    return out, x
"""
    after = rewrite(RULE, before, "unique_last")
    assert after is not None
    assert (
        "    out: list[str] = []\n"
        "    out_seen = set()\n"
        "    for x in items:\n"
        "        if x not in out_seen: out_seen.add(x); out.append(x)\n"
    ) in after
    assert_same_behaviour(before, after, "unique_last", [([],), (["a", "b", "a"],), (["z"],)])


def test_method_with_taken_names_and_nested_block() -> None:
    before = """
class Index:
    def __init__(self, keys_seen):
        self.keys_seen = keys_seen

    def keys(self, rows, flag):
        keys_seen = self.keys_seen
        if flag:
            keys = []
            for key in rows:
                if key not in keys:
                    keys.append(key)
            return keys, key, keys_seen
        return None


def run(rows, flag):
    return Index(7).keys(rows, flag)
"""
    after = rewrite(RULE, before, "Index.keys")
    assert after is not None
    assert "keys_seen_2 = set()" in after
    assert "if key not in keys_seen_2:\n                    keys_seen_2.add(key)\n" in after
    assert "keys_seen = self.keys_seen" in after
    inputs = [([], True), ([2, 2, 1], True), ([1], False), (["a", "a"], True)]
    assert_same_behaviour(before, after, "run", inputs)


def test_tuple_iterable_keeps_its_parentheses() -> None:
    before = """
def pair(a, b):
    out = []
    for x in a, b:
        if x not in out:
            out.append(x)
    return out
"""
    after = rewrite(RULE, before, "pair")
    assert after is not None and "out = list(dict.fromkeys((a, b)))" in after
    assert_same_behaviour(before, after, "pair", [(1, 1), (1, 2), ("x", None)])


@pytest.mark.parametrize(
    "loop",
    [
        # not exactly the pattern
        "for x in items:\n        if x not in out:\n            out.append(x)\n        else:\n"
        "            pass",
        "for x in items:\n        if x not in out:\n            out.append(x)\n    else:\n"
        "        pass",
        "for x in items:\n        if x not in out:\n            out.append(x)\n"
        "            print(x)",
        "for x in items:\n        if x in out:\n            out.append(x)",
        "for x in items:\n        if x not in out:\n            out.append(x + 1)",
        "for x in items:\n        if x not in other:\n            out.append(x)",
        "for x, y in items:\n        if x not in out:\n            out.append(x)",
        "for x in items:\n        if x not in out:\n            out.extend(x)",
        "pass\n    for x in items:\n        if x not in out:\n            out.append(x)",
        # the iterable reads the list being built
        "for x in items + out:\n        if x not in out:\n            out.append(x)",
    ],
)
def test_does_not_fire_off_pattern(loop: str) -> None:
    template = """
def f(items, other):
    out = []
    {loop}
    return out
"""
    control = "for x in items:\n        if x not in out:\n            out.append(x)"
    assert rewrite(RULE, template.format(loop=control), "f") is not None
    assert rewrite(RULE, template.format(loop=loop), "f") is None


def test_keeps_the_loop_when_the_list_is_observable_while_it_fills() -> None:
    before = """
def partial(items):
    try:
        out = []
        for x in items:
            if x not in out:
                out.append(x)
    except ZeroDivisionError:
        return out
    return out


def gen(n):
    for i in range(n):
        yield 1 // (2 - i)


def run(n):
    return partial(gen(n))
"""
    after = rewrite(RULE, before, "partial")
    assert after is not None
    assert "dict.fromkeys" not in after and "out_seen = set()" in after
    assert_same_behaviour(before, after, "run", [(0,), (2,), (5,)])


def test_does_not_fire_when_builtins_are_shadowed_or_locals_are_dynamic() -> None:
    source = """
dict = None


def f(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out
"""
    assert rewrite(RULE, source, "f") is None
    dynamic = DEDUPE.replace("return out\n", "return locals()\n", 1)
    assert rewrite(RULE, dynamic, "unique") is None

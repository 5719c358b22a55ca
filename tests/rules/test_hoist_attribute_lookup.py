import pytest

from agent.providers.rules.hoist_attribute_lookup import HoistAttributeLookup
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = HoistAttributeLookup()

SOURCE = """
import math
import os.path


def norms(rows, base):
    out = []
    seen = set()
    first = math.sqrt(len(rows))
    # one pass over the rows
    for row in rows:
        out.append(math.sqrt(sum(v * v for v in row)))
        seen.add(os.path.join(base, str(len(row))))
        for v in range(math.floor(first)):
            out.append(v)
    else:
        out.append(-1.0)
    return out, sorted(seen), first


def untouched(rows):
    out = []
    for row in rows:
        out.append(math.sqrt(row))
    return out
"""


def test_hoists_stdlib_functions_and_local_methods_before_the_outermost_loop() -> None:
    after = rewrite(RULE, SOURCE, "norms")
    assert after is not None
    assert (
        "    first = math.sqrt(len(rows))\n"
        "    # one pass over the rows\n"
        "    out_append = out.append\n"
        "    _sqrt = math.sqrt\n"
        "    seen_add = seen.add\n"
        "    _join = os.path.join\n"
        "    _floor = math.floor\n"
        "    for row in rows:\n"
        "        out_append(_sqrt(sum(v * v for v in row)))\n"
        "        seen_add(_join(base, str(len(row))))\n"
        "        for v in range(_floor(first)):\n"
        "            out_append(v)\n"
        "    else:\n"
        "        out.append(-1.0)\n"  # runs once: left alone
    ) in after
    assert after.endswith(SOURCE[SOURCE.index("def untouched") :])
    inputs = [([], "b"), ([[3, 4]], "b"), ([[1], [2, 2], [], [0, 0, 0, 0]], "/x"), ([[1]] * 3, "")]
    assert_same_behaviour(SOURCE, after, "norms", inputs)


def test_while_loop_dict_method_and_aliased_module_in_a_method() -> None:
    before = """
import collections as co
import os.path as osp


class Counter:
    def count(self, words):
        counts = {}
        words = list(words)
        while words:
            w = words.pop()
            counts[w] = counts.get(w, 0) + 1
            counts.setdefault(osp.basename(w), 0)
        return counts, co.OrderedDict(sorted(counts.items()))


def run(words):
    return Counter().count(words)
"""
    after = rewrite(RULE, before, "Counter.count")
    assert after is not None
    assert "        counts_get = counts.get\n" in after
    assert "        counts_setdefault = counts.setdefault\n" in after
    assert "        _basename = osp.basename\n        while words:\n" in after
    assert "counts[w] = counts_get(w, 0) + 1" in after
    assert "words.pop()" in after  # ``words`` is bound twice (the parameter, then list())
    assert "co.OrderedDict(" in after  # outside the loop
    inputs = [([],), (["a", "b", "a"],), (["x/y", "y", "y"],)]
    assert_same_behaviour(before, after, "run", inputs)


def test_private_module_function_gets_a_single_underscore_alias() -> None:
    before = """
import os


class Walker:
    def sizes(self, paths):
        out = {}
        for p in paths:
            out[p] = os._exists(p)
        return out
"""
    after = rewrite(RULE, before, "Walker.sizes")
    assert after is not None
    # ``_exists`` is taken: new names avoid every identifier in the module, attributes included.
    assert "        _exists_2 = os._exists\n" in after and "out[p] = _exists_2(p)" in after
    assert "__exists" not in after


def test_fresh_names_do_not_collide() -> None:
    before = """
import math

_sqrt = 1


def f(xs):
    out_append = 2
    out = []
    for x in xs:
        out.append(math.sqrt(x) + _sqrt + out_append)
    return out
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "_sqrt_2 = math.sqrt" in after and "out_append_2 = out.append" in after
    assert_same_behaviour(before, after, "f", [([],), ([4, 9],)])


@pytest.mark.parametrize(
    "setup, loop_body",
    [
        ("", "y = helpers.value(x)"),  # a user module
        ("", "sys.stdout.write(x)"),  # through a non-module attribute
        ("", "y = math.no_such_function(x)"),
        ("math = None", "y = math.sqrt(x)"),  # rebound in the function
        ("", "y = lazy.sqrt(x)"),  # imported under a condition
        ("out = []", "out.append(x)"),  # bound twice
        ("out += []", "out.append(x)"),
        ("del out\n    out = []", "out.append(x)"),
        ("", "f = lambda: out.append(x)"),  # inside a lambda: not per iteration here
        ("", "out.sort(key=x)"),  # fine, but list() is shadowed below
        ("", "tracker.append(x)"),  # not a list/dict/set display
        ("", "out.__len__()"),  # dunder
        ("", "out.append(x)\n        print(locals())"),
    ],
)
def test_does_not_fire(setup: str, loop_body: str) -> None:
    template = """
import math
import sys
import helpers

if helpers:
    import math as lazy


def f(xs, tracker):
    out = []
    {setup}
    for x in xs:
        {loop_body}
    return out
"""
    control = template.format(setup="", loop_body="out.append(math.sqrt(x))")
    assert rewrite(RULE, control, "f") is not None
    source = template.format(setup=setup, loop_body=loop_body)
    if loop_body.startswith("out.sort"):
        source = source.replace("out = []", "out = list()") + "\n\ndef list():\n    return []\n"
    assert rewrite(RULE, source, "f") is None


def test_does_not_fire_outside_loops_or_when_bound_after_or_in_a_branch() -> None:
    source = """
import math


def no_loop(x):
    out = []
    out.append(math.sqrt(x))
    return out


def only_iterable(xs):
    for x in range(math.floor(xs)):
        pass


def bound_in_branch(xs, flag):
    if flag:
        out = []
    for x in xs:
        out.append(x)
    return out


def bound_in_loop(xs):
    for x in xs:
        out = []
        out.append(x)
    return x
"""
    for name in ("no_loop", "only_iterable", "bound_in_branch", "bound_in_loop"):
        assert rewrite(RULE, source, name) is None, name


def test_local_bound_in_enclosing_block() -> None:
    before = """
def grouped(pairs, flag):
    groups = {}
    if flag:
        for k, v in pairs:
            groups.setdefault(k, []).append(v)
    return groups
"""
    after = rewrite(RULE, before, "grouped")
    assert after is not None
    assert "    if flag:\n        groups_setdefault = groups.setdefault\n        for k" in after
    assert "groups_setdefault(k, []).append(v)" in after
    inputs = [([], True), ([(1, 2), (1, 3), (2, 2)], True), ([(1, 2)], False)]
    assert_same_behaviour(before, after, "grouped", inputs)


def test_its_candidates_declare_the_trip_count_they_need() -> None:
    """The rules provider passes the rule's ``min_items`` on, alone or combined; the run then
    drops the candidate where the recorded calls are shorter (tests/test_papercuts.py)."""
    from agent.domain import Metrics, Target, TargetRef
    from agent.providers.base import Need, ProposalRequest, needs_of
    from agent.providers.rules import RULES
    from agent.providers.rules.provider import RulesProvider

    source = (
        "import math\n\n\ndef f(xs):\n    total = 0.0\n    for x in xs:\n"
        "        if x not in ('a', 'b', 'c', 'd', 'e'):\n"
        "            total += math.sqrt(len(x))\n    return total\n"
    )
    target = Target(TargetRef.parse("m.py::f"), "", 1, Metrics(1, 1.0, 1.0, 1))
    candidates = RulesProvider(RULES).propose(ProposalRequest(target, source, 5))
    needs = {c.summary: needs_of(c) for c in candidates}
    hoist = [Need("hoist_attribute_lookup", RULE.min_items)]
    assert needs["hoist_attribute_lookup"] == hoist
    assert needs["list_membership_to_set+hoist_attribute_lookup"] == hoist
    assert needs["list_membership_to_set"] == []

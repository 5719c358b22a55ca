import pytest

from agent.providers.rules.string_concat_join import StringConcatJoin
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = StringConcatJoin()


def test_collects_pieces_and_joins_once() -> None:
    before = """
def render(words, sep):
    out = ''  # the result
    for w in words:
        if w:
            out += w.upper()
        else:
            for c in sep:
                out += c
        out += ","
    return out
"""
    after = rewrite(RULE, before, "render")
    assert after is not None
    assert "    out_parts = []  # the result\n    for w in words:\n" in after
    assert "            out_parts.append(w.upper())\n" in after
    assert "                out_parts.append(c)\n" in after
    assert "        out_parts.append(\",\")\n    out = ''.join(out_parts)\n    return out\n" in (
        after
    )
    inputs = [
        ([], "-"),
        (["a", "", "b", "a"], "-+"),
        (["", ""], ""),
        ([""], ["a", 3]),  # the original fails with TypeError, and so does the rewrite
    ]
    assert_same_behaviour(before, after, "render", inputs)


def test_each_pattern_in_the_function_and_break_continue() -> None:
    before = """
def f(rows):
    result = []
    for row in rows:
        line = ""
        for cell in row:
            if cell == "stop":
                break
            if not cell:
                continue
            line += cell
        result.append(line)
    tail = ""
    for row in rows: tail += str(len(row))
    return result, tail
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert "        line_parts = []\n" in after and '        line = "".join(line_parts)\n' in after
    assert "    for row in rows: tail_parts.append(str(len(row)))\n" in after
    inputs = [([],), ([[]],), ([["a", "", "b"], ["c", "stop", "d"], ["a", "a"]],)]
    assert_same_behaviour(before, after, "f", inputs)


def test_fresh_name_avoids_existing_names() -> None:
    before = """
def f(xs):
    s_parts = 1
    s = ""
    for x in xs:
        s += x
    return s, s_parts
"""
    after = rewrite(RULE, before, "f")
    assert after is not None and "s_parts_2.append(x)" in after
    assert_same_behaviour(before, after, "f", [([],), (["a", "b"],)])


@pytest.mark.parametrize(
    "source",
    [
        # Not adjacent, not empty, bytes, or a loop with else.
        'def f(xs):\n    s = ""\n    n = 0\n    for x in xs:\n        s += x\n    return s\n',
        'def f(xs):\n    s = "a"\n    for x in xs:\n        s += x\n    return s\n',
        'def f(xs):\n    s = b""\n    for x in xs:\n        s += x\n    return s\n',
        'def f(xs):\n    s = ""\n    for x in xs:\n        s += x\n    else:\n        s += "!"\n'
        "    return s\n",
        # The loop reads s, or changes it other than by +=.
        'def f(xs):\n    s = ""\n    for x in xs:\n        s += x\n        print(len(s))\n',
        'def f(xs):\n    s = ""\n    for x in xs:\n        s += s\n    return s\n',
        'def f(xs):\n    s = ""\n    for x in xs:\n        s = s + x\n    return s\n',
        'def f(xs):\n    s = ""\n    for x in xs:\n        if x:\n            return s\n'
        "        s += x\n",
        # An error could be swallowed half-way, leaving the partial string observable.
        'def f(xs):\n    s = ""\n    for x in xs:\n        try:\n            s += x\n'
        "        except TypeError:\n            pass\n    return s\n",
        'def f(xs):\n    try:\n        s = ""\n        for x in xs:\n            s += x\n'
        "    except TypeError:\n        pass\n    return s\n",
        # s is not a plain local, or something else may read it during the loop.
        'def f(xs):\n    global s\n    s = ""\n    for x in xs:\n        s += x\n',
        'def f(xs):\n    get = lambda: s\n    s = ""\n    for x in xs:\n        s += x + get()\n',
        'def f(xs):\n    s = ""\n    for x in xs:\n        s += x\n        print(locals())\n',
        # The new list would show after the loop too.
        'def f(xs):\n    s = ""\n    for x in xs:\n        s += x\n    return locals()\n',
        'def f(xs):\n    s = ""\n    for x in xs:\n        s += x\n    return s, dir()\n',
    ],
)
def test_does_not_fire(source: str) -> None:
    assert rewrite(RULE, source, "f") is None


def test_nested_functions_and_other_functions_are_left_alone() -> None:
    source = """
def other(xs):
    s = ""
    for x in xs:
        s += x
    return s


def f(xs):
    def inner(ys):
        t = ""
        for y in ys:
            t += y
        return t

    s = ""
    for x in xs:
        s += x
    return s, inner
"""
    after = rewrite(RULE, source, "f")
    assert after is not None
    assert after.startswith('def other(xs):\n    s = ""\n    for x in xs:\n        s += x\n')
    assert '        t = ""\n        for y in ys:\n            t += y\n' in after
    assert "    s_parts = []\n    for x in xs:\n        s_parts.append(x)\n" in after

import pytest

from agent.providers.rules.hoist_regex import HoistRegex
from tests.rules.helpers import assert_same_behaviour, rewrite

RULE = HoistRegex()

LINES = [
    ([],),
    (["12-ab", "x y  z", "AB,ab", "12-ab"],),
    (["", " ", ",,"],),
]


def test_hoists_patterns_out_of_loops() -> None:
    before = '''
"""Parse things."""
import re

LIMIT = 3


def parse(lines):
    out = []
    for line in lines:
        m = re.match(r"(\\d+)-(\\w+)", line)
        if m or re.search("a" "b", line, flags=re.I | re.M):
            out.append(re.sub(r"\\s+", " ", line, 1))
        out.append(re.split(r",", line, maxsplit=1))
        out.append(re.subn(r"\\s+", repl="_", string=line))
        out.append(re.findall(r"(\\d+)-(\\w+)", line))
        out.append([m.group() for m in re.finditer(rb"a", line.encode())])
    return out, [bool(re.fullmatch(r"\\d+-\\w+", s)) for s in lines]
'''
    after = rewrite(RULE, before, "parse")
    assert after is not None
    assert (
        '"""Parse things."""\nimport re\n\n'
        '_PARSE_RE = re.compile(r"(\\d+)-(\\w+)")\n'
        '_PARSE_RE_2 = re.compile("a" "b", re.I | re.M)\n'
        '_PARSE_RE_3 = re.compile(r"\\s+")\n'
        '_PARSE_RE_4 = re.compile(r",")\n'
        '_PARSE_RE_5 = re.compile(rb"a")\n'
        '_PARSE_RE_6 = re.compile(r"\\d+-\\w+")\n'
        "\nLIMIT = 3\n"
    ) in after
    assert "m = _PARSE_RE.match(line)" in after
    assert "_PARSE_RE_2.search(line)" in after
    assert '_PARSE_RE_3.sub(" ", line, 1)' in after
    assert "_PARSE_RE_4.split(line, maxsplit=1)" in after
    assert '_PARSE_RE_3.subn(repl="_", string=line)' in after
    assert "_PARSE_RE.findall(line)" in after
    assert "_PARSE_RE_5.finditer(line.encode())" in after
    assert "_PARSE_RE_6.fullmatch(s)" in after
    assert_same_behaviour(before, after, "parse", LINES)


def test_compile_in_a_loop_becomes_the_constant_and_nested_calls_both_move() -> None:
    before = """
import re


def f(lines):
    out, i = [], 0
    while i < len(lines):
        line, i = lines[i], i + 1
        pattern = re.compile(r"[aeiou]", flags=re.IGNORECASE)
        out.append(pattern.sub("", re.sub(r"\\d", "#", line)))
    return out
"""
    after = rewrite(RULE, before, "f")
    assert after is not None
    assert '_F_RE = re.compile(r"[aeiou]", re.IGNORECASE)\n_F_RE_2 = re.compile(r"\\d")\n' in after
    assert "pattern = _F_RE\n" in after
    assert 'pattern.sub("", _F_RE_2.sub("#", line))' in after
    assert_same_behaviour(before, after, "f", [([],), (["A1b2", "", "xyz"],)])


@pytest.mark.parametrize(
    "source",
    [
        # No `import re`, or under another name, or `re` bound twice.
        "import regex as re\ndef f(xs):\n    return [re.match('a', x) for x in xs]\n",
        "import re as rx\ndef f(xs):\n    return [rx.match('a', x) for x in xs]\n",
        "import re\nfrom x import *\ndef f(xs):\n    return [re.match('a', x) for x in xs]\n",
        "import re\ndef f(xs, re):\n    return [re.match('a', x) for x in xs]\n",
        # `import re` comes after the spot where the constant would go.
        "A = 1\nB = 2\nimport re\ndef f(xs):\n    return [re.match('a', x) for x in xs]\n",
        # Flags given positionally, or not as `re.X` names.
        "import re\ndef f(xs):\n    return [re.match('a', x, re.I) for x in xs]\n",
        "import re\ndef f(xs):\n    return [re.sub('a', 'b', x, 0, re.I) for x in xs]\n",
        "import re\ndef f(xs, fl):\n    return [re.match('a', x, flags=fl) for x in xs]\n",
        "import re\ndef f(xs):\n    return [re.match('a', x, flags=re.DEBUG) for x in xs]\n",
        # pos/endpos mean something else on a Pattern; `pattern=` by keyword.
        "import re\ndef f(xs):\n    return [re.match(pattern='a', string=x) for x in xs]\n",
        # Not a literal, or not a valid pattern (it must keep failing only when called).
        "import re\ndef f(xs, p):\n    return [re.match(p, x) for x in xs]\n",
        "import re\ndef f(xs, p):\n    return [re.match(f'{p}', x) for x in xs]\n",
        "import re\ndef f(xs):\n    return [re.match('(', x) for x in xs]\n",
        # Not in a loop.
        "import re\ndef f(x):\n    return re.match('a', x)\n",
        # Not a hoistable function.
        "import re\ndef f(xs):\n    return [re.escape('a') for x in xs]\n",
    ],
)
def test_does_not_fire(source: str) -> None:
    assert rewrite(RULE, source, "f") is None


def test_nested_functions_and_other_functions_are_left_alone() -> None:
    source = """
import re


def other(xs):
    return [re.match("a", x) for x in xs]


def f(xs):
    def inner(ys):
        return [re.match("b", y) for y in ys]

    key = lambda y: re.match("c", y)
    return [re.match("d", x) for x in xs], inner, key
"""
    after = rewrite(RULE, source, "f")
    assert after is not None
    assert after.startswith('import re\n\n_F_RE = re.compile("d")\n\n\ndef other(xs):\n')
    assert '    return [re.match("a", x) for x in xs]\n' in after
    assert '        return [re.match("b", y) for y in ys]\n' in after
    assert 'key = lambda y: re.match("c", y)\n' in after
    assert "return [_F_RE.match(x) for x in xs], inner, key" in after


def test_re_bound_only_inside_another_function_does_not_matter() -> None:
    source = """
import re


def other(re):
    return re


def f(xs):
    return [re.match("a", x) for x in xs]
"""
    after = rewrite(RULE, source, "f")
    assert after is not None and "return [_F_RE.match(x) for x in xs]" in after
    rebound = source + "\n\ndef g():\n    global re\n    re = None\n"
    assert rewrite(RULE, rebound, "f") is None

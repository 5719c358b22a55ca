"""The capability stage: a candidate may reach only what its original reaches."""

from __future__ import annotations

import ast
import re
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest

from agent.providers.rules import RULES, Rule
from agent.verify.capabilities import CAPABILITIES, check_capabilities

ROOT = Path(__file__).resolve().parent.parent

# The original uses os.path, re and time, and nothing else.
ORIGINAL = '''\
"""Log helpers."""
import os
import re
import time

PREFIX = "logs"


def _clean(line):
    return line.strip()


def target(lines):
    start = time.perf_counter()
    out = [os.path.join(PREFIX, _clean(x)) for x in lines if re.match(r"\\w", x)]
    return out, time.perf_counter() - start
'''
_BODY = "    start = time.perf_counter()\n"


def candidate(body: str = "", top: str = "", imports: str = "") -> str:
    """ORIGINAL with ``body`` at the start of the target, ``top`` (module-level statements)
    right before it and ``imports`` after the file's imports."""
    lines = textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ") if body else ""
    source = ORIGINAL.replace(_BODY, _BODY + lines)
    source = source.replace("\n\ndef target", f"\n\n{textwrap.dedent(top)}\n\ndef target")
    return source.replace("import time\n", f"import time\n{textwrap.dedent(imports)}")


def reason(source: str, original: str = ORIGINAL, qualname: str = "target") -> str | None:
    return check_capabilities(original, source, qualname)


def new(words: str) -> str:
    return f"capability: {words}, which the original does not"


HOSTILE = {
    # environment
    "environ": (candidate("os.environ.get('HOME')"), new("reads the environment variable HOME")),
    "whole environ": (candidate("dict(os.environ)"), new("reads os.environ")),
    "getenv alias": (
        candidate("g('KEY')", imports="from os import getenv as g"),
        new("reads the environment variable KEY"),
    ),
    "os alias": (
        candidate("o.environ['KEY']", imports="import os as o"),
        new("reads the environment variable KEY"),
    ),
    "environ alias": (
        candidate("e['KEY']", imports="from os import environ as e"),
        new("reads the environment variable KEY"),
    ),
    "re-exported os": (
        candidate("logging.os.environ", imports="import logging"),
        new("reads os.environ"),
    ),
    "private alias": (
        candidate("tempfile._os.getenv('K')", imports="import tempfile"),
        new("reads os.getenv"),
    ),
    "getattr constant": (candidate("getattr(os, 'environ')"), new("reads os.environ")),
    "star import": (
        candidate("environ['KEY']", imports="from os import *"),
        new("reads the environment variable KEY"),
    ),
    # ending the process
    "os._exit": (candidate("os._exit(0)"), new("ends the process (os._exit)")),
    "SystemExit": (candidate("raise SystemExit(0)"), new("ends the process (SystemExit)")),
    "sys.exit": (
        candidate("sys.exit(0)", imports="import sys"),
        new("ends the process (sys.exit)"),
    ),
    "quit": (candidate("quit()"), new("ends the process (quit)")),
    # processes
    "subprocess": (
        candidate("subprocess.run(['id'])", imports="import subprocess"),
        new("runs processes (subprocess)"),
    ),
    "from subprocess": (
        candidate("r(['id'])", imports="from subprocess import run as r"),
        new("runs processes (subprocess)"),
    ),
    "os.system": (candidate("os.system('id')"), new("runs processes (os.system)")),
    "os.execv": (candidate("os.execv('/bin/sh', [])"), new("runs processes (os.execv)")),
    # network
    "urllib": (
        candidate("urllib.request.urlopen('http://x')", imports="import urllib.request"),
        new("uses the network (urllib)"),
    ),
    "socket": (
        candidate("socket.socket()", imports="import socket"),
        new("uses the network (socket)"),
    ),
    # native code
    "ctypes": (
        candidate("ctypes.CDLL(None)", imports="import ctypes"),
        new("loads native code (ctypes)"),
    ),
    "pythonapi": (
        candidate("p.Py_Initialize", imports="from ctypes import pythonapi as p"),
        new("loads native code (ctypes)"),
    ),
    # pickling
    "pickle": (
        candidate("pickle.loads(b'')", imports="import pickle"),
        new("pickles objects (pickle)"),
    ),
    "marshal": (
        candidate("marshal.loads(b'')", imports="import marshal"),
        new("pickles objects (marshal)"),
    ),
    # dynamic imports
    "importlib": (
        candidate("importlib.import_module('os')", imports="import importlib"),
        new("imports code dynamically (importlib)"),
    ),
    "__import__": (candidate("__import__('os')"), new("imports code dynamically (__import__)")),
    # dynamic code and namespaces
    "eval": (candidate("eval('1')"), new("runs dynamic code (eval)")),
    "compile": (candidate("c = compile('1', 'f', 'eval')"), new("runs dynamic code (compile)")),
    "exec via builtins": (
        candidate("b.exec('x = 1')", imports="import builtins as b"),
        new("reaches the builtins module (builtins)"),
    ),
    "vars": (candidate("vars(os)"), new("reads namespaces (vars)")),
    "globals": (candidate("globals()['os']"), new("reads namespaces (globals)")),
    # frames and inspection
    "inspect": (
        candidate("inspect.currentframe()", imports="import inspect"),
        new("inspects frames (inspect)"),
    ),
    "_getframe": (
        candidate("sys._getframe(1)", imports="import sys"),
        new("inspects frames (sys._getframe)"),
    ),
    "gi_frame": (
        candidate("g = (x for x in lines)\nf = g.gi_frame"),
        new("inspects frames (gi_frame)"),
    ),
    # the garbage collector, memory
    "gc": (candidate("gc.get_objects()", imports="import gc"), new("inspects memory (gc)")),
    "from gc": (
        candidate("r(lines)", imports="from gc import get_referrers as r"),
        new("inspects memory (gc)"),
    ),
    "tracemalloc": (
        candidate("tracemalloc.start()", imports="import tracemalloc"),
        new("inspects memory (tracemalloc)"),
    ),
    "tracemalloc snapshot": (
        candidate("s()", imports="from tracemalloc import take_snapshot as s"),
        new("inspects memory (tracemalloc)"),
    ),
    # hooks: atexit, signal
    "atexit": (
        candidate("atexit.register(print)", imports="import atexit"),
        new("installs hooks (atexit)"),
    ),
    "atexit from": (
        candidate("register(print)", imports="from atexit import register"),
        new("installs hooks (atexit)"),
    ),
    "signal": (
        candidate("signal.signal(15, print)", imports="import signal"),
        new("installs hooks (signal)"),
    ),
    "signal alarm": (
        candidate("alarm(1)", imports="from signal import alarm"),
        new("installs hooks (signal)"),
    ),
    # threads
    "threading": (
        candidate("threading.Thread(target=print).start()", imports="import threading"),
        new("starts threads (threading)"),
    ),
    "executor": (
        candidate("cf.ThreadPoolExecutor()", imports="import concurrent.futures as cf"),
        new("starts threads (concurrent)"),
    ),
    # builtins
    "builtins module": (
        candidate("builtins.len", imports="import builtins"),
        new("reaches the builtins module (builtins)"),
    ),
    "__builtins__": (candidate("__builtins__['len']"), new("uses __builtins__")),
    "__subclasses__": (candidate("object.__subclasses__()"), new("uses __subclasses__")),
    "bltns alias": (
        candidate("enum.bltns.open", imports="import enum"),
        new("reaches the builtins module (builtins)"),
    ),
    # files
    "open": (candidate("open('/etc/hostname').read()"), new("touches files (open)")),
    "io.open": (
        candidate("io.open('/etc/hostname')", imports="import io"),
        new("touches files (io)"),
    ),
    "pathlib": (
        candidate("pathlib.Path('~').read_text()", imports="import pathlib"),
        new("touches files (pathlib)"),
    ),
    "os.remove": (candidate("os.remove('x')"), new("touches files (os.remove)")),
    # patching clocks and modules
    "time patch": (candidate("time.perf_counter = lambda: 0.0"), new("patches time.perf_counter")),
    "setattr": (
        candidate("setattr(time, 'perf_counter', print)"),
        new("sets attributes by name (setattr)"),
    ),
    "delattr": (candidate("delattr(time, 'sleep')"), new("sets attributes by name (delattr)")),
    "json patch": (candidate("json.dump = print", imports="import json"), new("patches json.dump")),
    # dunder tricks
    "__class__": (candidate("lines.__class__.__subclasses__()"), new("uses __class__")),
    "__globals__": (candidate("_clean.__globals__['os']"), new("uses __globals__")),
    "dunder getattr": (candidate("getattr(_clean, '__globals__')"), new("uses __globals__")),
    "format field": (
        candidate("'{0.__globals__}'.format(_clean)"),
        new("reads attributes by computed name (a format field)"),
    ),
    "computed getattr": (
        candidate("getattr(os, 'env' + 'iron')"),
        new("reads attributes by computed name (getattr)"),
    ),
    "computed format": (
        candidate("('{0.' + 'x}').format(lines)"),
        new("reads attributes by computed name (str.format)"),
    ),
    "lazy list": (
        candidate(
            "return _Lazy(lines), 0.0",
            top="""
                class _Lazy(list):
                    __module__ = "builtins"
                    __qualname__ = "list"
            """,
        ),
        new("assigns __module__"),
    ),
    "plain list subclass": (
        candidate("return _L(lines), 0.0", top="class _L(list):\n    pass\n"),
        new("subclasses list"),
    ),
    "exception subclass": (
        candidate(top="class _E(ValueError):\n    pass\n"),
        new("subclasses ValueError"),
    ),
    "qualname via attribute": (candidate("_clean.__qualname__ = 'x'"), new("assigns __qualname__")),
    "__reduce__": (
        candidate(top="class _P:\n    def __reduce__(self):\n        return (print, ('x',))\n"),
        new("defines __reduce__"),
    ),
    "__del__": (
        candidate(top="class _P:\n    def __del__(self):\n        pass\n"),
        new("defines __del__"),
    ),
    "type with 3 arguments": (
        candidate("K = type('K', (list,), {})"),
        new("creates classes at run time (type())"),
    ),
    "metaclass": (
        candidate(top="class _M(metaclass=abc.ABCMeta):\n    pass\n", imports="import abc"),
        new("creates classes at run time (metaclass=)"),
    ),
    # code that runs at import
    "call at import": (candidate(top="setup()\n"), new("runs code at import (calls setup())")),
    "constant from a call": (
        candidate(top="_X = compute(1)\n"),
        new("runs code at import (calls compute())"),
    ),
    "if at import": (
        candidate(top="if PREFIX:\n    _X = 1\n"),
        new("runs code at import (if statement)"),
    ),
    "default argument": (
        candidate(top="def _h(x=print('hi')):\n    return x\n"),
        new("runs code at import (calls print())"),
    ),
    "decorator": (
        candidate(top="@register\ndef _h():\n    pass\n"),
        new("runs code at import (decorator @register)"),
    ),
    "decorator called": (
        candidate(
            top="@functools.lru_cache(maxsize=setup())\ndef _h():\n    pass\n",
            imports="import functools",
        ),
        new("runs code at import (decorator @functools.lru_cache(maxsize=setup()))"),
    ),
    "shadowed decorator": (
        candidate(top="staticmethod = setup\n@staticmethod\ndef _h():\n    pass\n"),
        new("runs code at import (decorator @staticmethod)"),
    ),
    "attribute assignment at import": (candidate(top="re.X = 1\n"), new("patches re.X")),
    # and the rest
    "global": (candidate("global PREFIX\nPREFIX = 'x'"), new("rebinds the global PREFIX")),
    "global function": (candidate("global _clean\n_clean = str"), new("rebinds the global _clean")),
    "new third-party module": (
        candidate("requests.get('http://x')", imports="import requests"),
        new("uses the network (requests)"),
    ),
    "unknown module": (candidate("yaml.load('x')", imports="import yaml"), new("uses yaml")),
    "impure stdlib module": (
        candidate("platform.system()", imports="import platform"),
        new("uses platform"),
    ),
    "sys.modules": (
        candidate("sys.modules['os']", imports="import sys"),
        new("changes the interpreter (sys.modules)"),
    ),
    "settrace": (
        candidate("settrace(None)", imports="from sys import settrace"),
        new("changes the interpreter (sys.settrace)"),
    ),
    "private stdlib part": (
        candidate("re._compiler.compile"),
        new("uses the private re._compiler"),
    ),
    "private module": (
        candidate("_io.open('x')", imports="import _io"),
        new("uses the private _io"),
    ),
    "input": (candidate("x = input()"), new("uses the terminal (input)")),
    "stdin": (
        candidate("x = sys.stdin.read()", imports="import sys"),
        new("uses the terminal (sys.stdin)"),
    ),
}


@pytest.mark.parametrize("source, expected", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_candidates_are_rejected_with_the_capability_named(
    source: str, expected: str
) -> None:
    assert reason(source) == expected


def test_at_least_two_hostile_candidates_per_capability() -> None:
    def key(expected: str) -> str:
        words = expected.removeprefix("capability: ").removesuffix(", which the original does not")
        fitting = [
            capability
            for capability in CAPABILITIES
            if re.fullmatch(re.escape(capability.words).replace(r"\{name\}", ".+"), words)
            and (capability.key != "dunder" or "__" in words)
        ]
        return max(fitting, key=lambda capability: len(capability.words)).key  # most specific

    counts = Counter(key(expected) for _, expected in HOSTILE.values())
    assert all(counts[c.key] >= 2 for c in CAPABILITIES if c.key not in ("paths",)), counts


LEGITIMATE = {
    "what the original uses": candidate(
        "x = os.path.basename(re.sub('a', 'b', 'c'))\ntime.sleep(0)"
    ),
    "re.compile when re is used": candidate("pattern = re.compile(r'\\w')"),
    "pure helper and constant": candidate(
        "_ = _double(_LIMIT)",
        top='''
            _LIMIT = frozenset({1, 2, 3})
            _TABLE = {c: i for i, c in enumerate("abc")}
            _WORD = re.compile(r"\\w+", re.I | re.M)


            def _double(x: int) -> int:
                """Twice x."""
                return 2 * x
        ''',
    ),
    "deque and lru_cache": candidate(
        "q = deque(lines)",
        top="@functools.lru_cache(maxsize=None, typed=True)\ndef _h(n: int) -> int:\n    return n",
        imports="import functools\nfrom collections import deque",
    ),
    "dataclass helper": candidate(
        "p = _Pair(1, 2)",
        top="@dataclasses.dataclass(frozen=True)\nclass _Pair:\n    a: int\n    b: int = 0\n",
        imports="import dataclasses",
    ),
    "a local named like a builtin": candidate("open = 3\nx = open + 1"),
    "safe dunders": candidate("n = _clean.__name__\nk = len.__doc__"),
    "the existing helper it already used": candidate("y = _clean(PREFIX)"),
    "format on a literal": candidate("s = '{} {:.2f}'.format(1, 2.0)"),
}


@pytest.mark.parametrize("source", LEGITIMATE.values(), ids=LEGITIMATE.keys())
def test_legitimate_candidates_are_accepted(source: str) -> None:
    assert reason(source) is None


def test_what_the_original_uses_stays_allowed() -> None:
    original = ORIGINAL.replace(_BODY, _BODY + "    home = os.environ['HOME']\n")
    assert reason(candidate("x = os.environ.get('HOME')"), original) is None
    # One variable, whichever way it is read; another variable is another capability.
    assert reason(candidate("x = os.getenv('HOME')"), original) is None
    assert reason(candidate("x = os.getenv('PATH')"), original) == new(
        "reads the environment variable PATH"
    )
    whole = ORIGINAL.replace(_BODY, _BODY + "    env = dict(os.environ)\n")
    assert reason(candidate("x = os.getenv('ANY')"), whole) is None


def test_os_path_grants_neither_the_environment_nor_processes() -> None:
    only_path = "import os\n\ndef target(p):\n    return os.path.basename(p)\n"
    cases = {
        "os.path.join(p, 'x')": None,
        "os.environ['X']": new("reads the environment variable X"),
        "os.system(p)": new("runs processes (os.system)"),
        "os.getpid()": new("uses os"),
    }
    for use, expected in cases.items():
        source = only_path.replace("os.path.basename(p)", use)
        assert reason(source, only_path) == expected, use


def test_existing_definitions_count_when_newly_reached() -> None:
    leak = "\n\ndef _leak():\n    return dict(os.environ)\n"
    assert reason(candidate("_leak()") + leak, ORIGINAL + leak) == new("reads os.environ")
    alias = "\n_alias = os\n"
    assert reason(candidate("x = _alias.environ") + alias, ORIGINAL + alias) == new("uses os")
    reaching = ORIGINAL.replace(_BODY, _BODY + "    _leak()\n") + leak
    assert reason(candidate("_leak()") + leak, reaching) is None


def test_methods_follow_the_members_they_call() -> None:
    original = textwrap.dedent("""
        import os

        class Box:
            def _secret(self):
                return os.environ["KEY"]

            def size(self, items):
                return len(items)
    """)
    hostile = original.replace("return len(items)", "return len(items) + len(self._secret())")
    assert reason(hostile, original, "Box.size") == new("reads the environment variable KEY")
    helper = original.replace(
        "    def size", "    def _count(self, items):\n        return len(items)\n\n    def size"
    ).replace("return len(items)\n\n", "return len(items)\n\n", 1)
    helper = helper.replace("return len(items)\n", "return self._count(items)\n", 2)
    assert reason(helper, original, "Box.size") is None


def test_rewritten_members_and_helpers_of_the_unit_are_analysed_too() -> None:
    # The unit scope lets a candidate rewrite its class's constructor and the module's
    # private helpers: what they reach counts as the target's own reach does.
    original = textwrap.dedent("""
        def _tidy(text):
            return text.strip()

        class Book:
            def __init__(self, records):
                self.records = list(records)

            def names(self):
                return [_tidy(name) for name in self.records]
    """)
    spawning = original.replace(
        "self.records = list(records)",
        "import subprocess\n        subprocess.run(['id'])\n        self.records = list(records)",
    )
    assert reason(spawning, original, "Book.names") == new("runs processes (subprocess)")
    dialing = original.replace("return text.strip()", "import socket\n    return text.strip()")
    assert reason(dialing, original, "Book.names") == new("uses the network (socket)")


def test_added_class_members_run_at_import() -> None:
    source = candidate(top="class _K:\n    X = setup()\n")
    assert reason(source) == new("runs code at import (calls setup())")
    source = candidate(top="class _K:\n    @property\n    def x(self):\n        return 1\n\n"
                           "    @x.setter\n    def x(self, v):\n        pass\n")  # fmt: skip
    assert reason(source) is None


def test_the_targets_own_decorators_stay_allowed() -> None:
    original = ORIGINAL.replace("def target", "@trace('x')\ndef target")
    assert reason(candidate().replace("def target", "@trace('x')\ndef target"), original) is None
    assert reason(candidate().replace("def target", "@other\ndef target"), original) == new(
        "runs code at import (decorator @other)"
    )


def test_the_reason_is_the_most_severe_and_deterministic() -> None:
    source = candidate("time.sleep(0)\nos.environ\nos._exit(0)", imports="import socket")
    assert {reason(source) for _ in range(3)} == {new("ends the process (os._exit)")}


def test_relative_imports_of_the_project_are_not_dangerous() -> None:
    source = candidate("x = helpers.tidy(lines)", imports="from . import helpers")
    assert reason(source) is None
    sneaky = candidate("x = helpers.os.environ", imports="from . import helpers")
    assert reason(sneaky) == new("reads os.environ")


def test_a_missing_target_fails_closed() -> None:
    assert reason(ORIGINAL.replace("def target", "def other")) == (
        "capability: target cannot be found to be analysed"
    )


def test_the_table_is_well_formed() -> None:
    keys = [c.key for c in CAPABILITIES]
    assert len(keys) == len(set(keys))
    for capability in CAPABILITIES:
        assert "{name}" in capability.words
        assert capability.names or capability.how, capability.key


def _examples(texts: list[str]) -> Iterator[tuple[str, str]]:
    """``(source, qualname)`` for every function and method of each parsable text."""
    for text in texts:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef):
                yield text, statement.name
            elif isinstance(statement, ast.ClassDef):
                for inner in statement.body:
                    if isinstance(inner, ast.FunctionDef):
                        yield text, f"{statement.name}.{inner.name}"


def _strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        textwrap.dedent(node.value).lstrip()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "def " in node.value
    ]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_output_on_its_own_test_inputs_passes(rule: Rule) -> None:
    fired = 0
    for text, qualname in _examples(_strings(ROOT / f"tests/rules/test_{rule.name}.py")):
        rewritten = rule.apply(cst.parse_module(text), qualname)
        if rewritten is not None:
            fired += 1
            assert reason(rewritten.code, text, qualname) is None, (qualname, rewritten.code)
    assert fired >= 1


def test_the_rules_on_the_demo_project_pass_alone_and_combined() -> None:
    fired = 0
    texts = [p.read_text() for p in sorted((ROOT / "examples/demo/logkit").glob("*.py"))]
    for text, qualname in _examples(texts):
        module = cst.parse_module(text)
        combined = module
        for rule in RULES:
            rewritten = rule.apply(module, qualname)
            if rewritten is not None:
                fired += 1
                assert reason(rewritten.code, text, qualname) is None, (rule.name, qualname)
                combined = rule.apply(combined, qualname) or combined
        assert reason(combined.code, text, qualname) is None, qualname
    assert fired >= 5


def test_fast_on_a_500_line_file() -> None:
    helpers = "".join(
        f"\n\ndef helper_{i}(xs, y={i}):\n    out = []\n    for x in xs:\n"
        f"        if x > y and re.match(r'a', str(x)):\n            out.append(x * {i})\n"
        f"    return sorted(out)[: len(xs) // 2]\n"
        for i in range(62)
    )
    original = ORIGINAL + helpers
    source = candidate("_ = [helper_1(lines), helper_2(lines)]", top="_C = frozenset({1})\n")
    source += helpers
    assert len(source.splitlines()) > 500
    start = time.perf_counter()
    for _ in range(10):
        assert reason(source, original) is None
    assert (time.perf_counter() - start) / 10 < 0.1

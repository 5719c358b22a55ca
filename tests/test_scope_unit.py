"""The unit scope (``Scope(unit=True)``): a method's class and its module's private helpers."""

from __future__ import annotations

import libcst as cst
import pytest

from agent.domain import Candidate, Metrics, Target, TargetRef
from agent.syntax import changed_definitions
from agent.verify.scope import Scope, check_static

ORIGINAL = '''import re

_SEPARATOR = ","
LIMIT = 10


def _split(text):
    return text.split(_SEPARATOR)


def public_helper(text):
    return _split(text)[0]


class CustomerBook:
    """Customers by name."""

    __slots__ = ("records",)
    kind = "book"

    def __init__(self, records):
        self.records = list(records)

    def add(self, name, city):
        self.records.append((name, city))

    def lookup(self, name):
        for record_name, city in self.records:
            if record_name == name:
                return city
        return None

    def _count(self):
        return len(self.records)

    @property
    def size(self):
        return self._count()
'''

# The right idea the issue describes: an index built in __init__, kept by add, used by lookup.
INDEXED = (
    ORIGINAL.replace('__slots__ = ("records",)', '__slots__ = ("records", "_index")')
    .replace(
        "        self.records = list(records)\n",
        "        self.records = list(records)\n"
        "        self._index = {}\n"
        "        for name, city in self.records:\n"
        "            self._index.setdefault(name, city)\n",
    )
    .replace(
        "        self.records.append((name, city))\n",
        "        self.records.append((name, city))\n        self._index.setdefault(name, city)\n",
    )
    .replace(
        "        for record_name, city in self.records:\n"
        "            if record_name == name:\n"
        "                return city\n"
        "        return None\n",
        "        return self._index.get(name)\n",
    )
)


def unit_refusal(new: str, qualname: str = "CustomerBook.lookup") -> str | None:
    original = cst.parse_module(ORIGINAL)
    return Scope(qualname, unit=True).refusal(original, cst.parse_module(new))


def old_refusal(new: str, qualname: str = "CustomerBook.lookup") -> str | None:
    return Scope(qualname).refusal(cst.parse_module(ORIGINAL), cst.parse_module(new))


NEW_PRIVATE_METHOD = ORIGINAL.replace(
    "    def _count(self):",
    "    def _scan(self, name):\n        return None\n\n    def _count(self):",
)
CHANGED_PRIVATE_HELPER = ORIGINAL.replace(
    "def _split(text):\n    return text.split(_SEPARATOR)",
    "def _split(text, limit=-1):\n    return text.split(_SEPARATOR, limit)",
).replace('_SEPARATOR = ","', '_SEPARATOR = ";"')


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(INDEXED, id="index built in __init__, kept by add, used by the target"),
        pytest.param(NEW_PRIVATE_METHOD, id="a new private method"),
        pytest.param(CHANGED_PRIVATE_HELPER, id="a private helper and constant rewritten"),
        pytest.param(
            ORIGINAL.replace('kind = "book"', 'kind = "book"\n    _empty = ()'),
            id="a new private class attribute",
        ),
        pytest.param(
            ORIGINAL.replace("return self._count()", "return len(self.records)"),
            id="another method's body",
        ),
    ],
)
def test_the_unit_may_change(new: str) -> None:
    assert unit_refusal(new) is None
    assert old_refusal(new) is not None  # and none of it is allowed without the flag


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        (
            ORIGINAL.replace("def add(self, name, city):", "def add(self, name, city, when):"),
            "changes the signature of CustomerBook.add",
        ),
        (
            ORIGINAL.replace("def add(self, name, city):", "def add(self, name, town):"),
            "changes the signature of CustomerBook.add",
        ),
        (
            ORIGINAL.replace("def add(self, name, city):", "def add(self, name, city=None):"),
            "changes the signature of CustomerBook.add",
        ),
        (
            ORIGINAL.replace("    @property\n    def size", "    @staticmethod\n    def size"),
            "changes the decorators of CustomerBook.size",
        ),
        (
            ORIGINAL.replace(
                "    def _count(self):",
                "    @property\n    def first(self):\n        return 1\n\n    def _count(self):",
            ),
            "adds public member CustomerBook.first",
        ),
        (
            ORIGINAL.replace(
                "    def _count(self):",
                "    def find(self):\n        return 1\n\n    def _count(self):",
            ),
            "adds public member CustomerBook.find: new class members must be private",
        ),
        (
            ORIGINAL.replace("class CustomerBook:", "class CustomerBook(dict):"),
            "changes the class statement of 'CustomerBook'",
        ),
        (
            ORIGINAL.replace("return _split(text)[0]", "return _split(text)[-1]"),
            "changes 'public_helper', which is not the target",
        ),
        (
            ORIGINAL.replace("LIMIT = 10", "LIMIT = 11"),
            "removes or changes the statement 'LIMIT = 10'",
        ),
        (
            ORIGINAL.replace("    def _count(self):\n        return len(self.records)\n", ""),
            "removes the definition CustomerBook._count",
        ),
        (
            ORIGINAL.replace('    """Customers by name."""', '    """Customers."""'),
            "removes or changes the statement",
        ),
    ],
)
def test_the_unit_keeps_what_callers_see(new: str, reason: str) -> None:
    found = unit_refusal(new)
    assert found is not None and reason in found, found


def test_a_function_target_may_change_private_helpers_only() -> None:
    helper = ORIGINAL.replace("return text.split(_SEPARATOR)", "return text.split(',')")
    faster = helper.replace("return _split(text)[0]", "return text.partition(',')[0]")
    assert unit_refusal(faster, "public_helper") is None
    # The target's own signature is judged as without the unit: by its behaviour and tests.
    signature = faster.replace("def public_helper(text):", "def public_helper(text, n=0):")
    assert unit_refusal(signature, "public_helper") is None
    method = faster.replace("return len(self.records)", "return 0 + len(self.records)")
    assert (
        unit_refusal(method, "public_helper") == "changes 'CustomerBook', which is not the target"
    )


def test_another_file_is_refused_with_the_unit_on_too() -> None:
    ref = TargetRef("m.py", "CustomerBook.lookup")
    target = Target(ref, "", 30, Metrics(1, 0.0, 100.0, 1))
    candidate = Candidate("c", ref, "test", {"m.py": INDEXED, "other.py": "X = 1\n"}, "test")
    assert check_static(candidate, target, ORIGINAL) == (
        "scope",
        "edits files other than the target's: other.py",
    )


def test_a_private_class_holding_the_target_keeps_its_statement() -> None:
    source = "class _Box:\n    def grow(self, n):\n        return n\n"
    based = "class _Box(dict):\n    def grow(self, n):\n        return n + 0\n"
    scope = Scope("_Box.grow", unit=True)
    refusal = scope.refusal(cst.parse_module(source), cst.parse_module(based))
    assert refusal == "changes the class statement of '_Box'"


def test_changed_definitions_names_each_one_in_file_order() -> None:
    original, new = cst.parse_module(ORIGINAL), cst.parse_module(INDEXED)
    assert changed_definitions(original, new) == [
        "CustomerBook.__slots__",
        "CustomerBook.__init__",
        "CustomerBook.add",
        "CustomerBook.lookup",
    ]
    helper = cst.parse_module(CHANGED_PRIVATE_HELPER)
    assert changed_definitions(original, helper) == ["_SEPARATOR", "_split"]
    assert changed_definitions(original, cst.parse_module(NEW_PRIVATE_METHOD)) == [
        "CustomerBook._scan"
    ]
    based = cst.parse_module(ORIGINAL.replace("class CustomerBook:", "class CustomerBook(dict):"))
    assert changed_definitions(original, based) == ["CustomerBook"]
    assert changed_definitions(original, original) == []

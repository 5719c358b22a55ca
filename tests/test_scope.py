"""What an edit may change: only its target, plus new imports, constants and helpers."""

from __future__ import annotations

import pytest

from agent.domain import Candidate, Metrics, Target, TargetRef
from agent.verify.scope import check_static

ORIGINAL = """import re

LIMIT = 10


def target(x):
    return x + 1


class Box:
    size = 3

    def grow(self, n):
        return self.size + n

    def shrink(self, n):
        return self.size - n


def helper():
    return LIMIT
"""


def verdict(new: str, qualname: str = "target", path: str = "m.py") -> tuple[str, str] | None:
    ref = TargetRef("m.py", qualname)
    target = Target(ref, "", 1, Metrics(1, 0.0, 100.0, 1))
    return check_static(Candidate("c", ref, "test", {path: new}, "test"), target, ORIGINAL)


@pytest.mark.parametrize(
    "new",
    [
        ORIGINAL.replace("return x + 1", "return 1 + x"),
        ORIGINAL.replace("import re\n", "import re\nimport functools\n_CACHE = {}\n"),
        ORIGINAL.replace("def target(x):", "def _fast(x):\n    return x\n\n\ndef target(x):"),
        # an import put right above a class gives the class other blank lines: layout only
        ORIGINAL.replace("\n\nclass Box:", "import heapq\n\nclass Box:").replace("x + 1", "1 + x"),
    ],
)
def test_allowed_edits(new: str) -> None:
    assert verdict(new) is None


@pytest.mark.parametrize(
    ("new", "stage", "fragment"),
    [
        (ORIGINAL, "scope", "changes nothing"),
        (ORIGINAL.replace("def target(x):", "def target(x:"), "parse", "syntax error"),
        (ORIGINAL.replace("return LIMIT", "return 11"), "scope", "'helper'"),
        (ORIGINAL.replace("LIMIT = 10", "LIMIT = 11"), "scope", "LIMIT = 10"),
        (ORIGINAL.replace("def target(x):\n    return x + 1\n", ""), "scope", "removes the target"),
        (ORIGINAL + "\nprint('hi')\n", "scope", "not an import, helper or constant: print('hi')"),
        (ORIGINAL + "\nhelper = None\n", "scope", "redefines existing name helper"),
    ],
)
def test_rejected_edits(new: str, stage: str, fragment: str) -> None:
    result = verdict(new)
    assert result is not None and result[0] == stage and fragment in result[1], result


def test_other_files_are_out_of_bounds() -> None:
    result = verdict(ORIGINAL.replace("x + 1", "1 + x"), path="tests/test_m.py")
    assert result == ("scope", "edits files other than the target's: tests/test_m.py")


def test_a_method_target_may_change_only_itself() -> None:
    grown = ORIGINAL.replace("self.size + n", "n + self.size")
    assert verdict(grown, "Box.grow") is None
    shrunk = ORIGINAL.replace("self.size - n", "-n + self.size")
    assert verdict(shrunk, "Box.grow") == ("scope", "changes 'shrink', which is not the target")
    resized = ORIGINAL.replace("size = 3", "size = 4").replace("self.size + n", "n + self.size")
    assert verdict(resized, "Box.grow") == ("scope", "removes or changes the statement 'size = 3'")
    based = ORIGINAL.replace("class Box:", "class Box(dict):").replace(
        "self.size + n", "n+self.size"
    )
    assert verdict(based, "Box.grow") == ("scope", "changes the class statement of 'Box'")


def test_an_import_merged_into_an_existing_line_keeps_what_it_imported() -> None:
    source = ORIGINAL.replace("import re\n", "from math import sqrt\n")
    merged = source.replace("from math import sqrt", "from math import floor, sqrt")
    assert verdict_of(source, merged.replace("x + 1", "floor(x)")) is None
    dropped = source.replace("from math import sqrt", "from math import floor")
    assert verdict_of(source, dropped.replace("x + 1", "floor(x)")) == (
        "scope",
        "removes or changes the statement 'from math import sqrt'",
    )


def verdict_of(original: str, new: str, qualname: str = "target") -> tuple[str, str] | None:
    ref = TargetRef("m.py", qualname)
    target = Target(ref, "", 1, Metrics(1, 0.0, 100.0, 1))
    return check_static(Candidate("c", ref, "test", {"m.py": new}, "test"), target, original)


FAST = ORIGINAL.replace("return x + 1", "return 1 + x")


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        # What both earlier rules missed or let through.
        (FAST + "\nhelper.__code__ = target.__code__\n", "not an import, helper or constant"),
        (FAST.replace("import re\n", "import re\nfrom os import *\n"), "star import from os"),
        (
            FAST.replace("import re\n", "import re\nimport numpy as helper\n"),
            "existing name helper",
        ),
        (FAST.replace("import re\n", "import re\nLIMIT = 11\n"), "redefines existing name LIMIT"),
        (FAST + "\n\ndef sorted(x):\n    return x\n", "shadows the builtin or special name sorted"),
        (FAST.replace("import re\n", "import re\nfrom numpy import sum\n"), "name sum"),
        (FAST + "\n\ndef __getattr__(name):\n    return 1\n", "special name __getattr__"),
        (FAST + "\n__builtins__ = {}\n", "special name __builtins__"),
        (FAST.replace("import re\n", "from __future__ import annotations\nimport re\n"), "future"),
        (FAST.replace("LIMIT = 10\n", "") + "\nLIMIT = 10\n", "moves 'LIMIT = 10'"),
        ("# -*- coding: utf-7 -*-\n" + FAST, "changes the file's encoding declaration"),
        (FAST.replace("import re\n", ""), "removes or changes the statement 'import re'"),
    ],
)
def test_what_a_candidate_may_not_add_or_change(new: str, reason: str) -> None:
    result = verdict(new)
    assert result is not None and result[0] == "scope" and reason in result[1], result


def test_a_method_target_takes_no_new_class_members() -> None:
    grown = ORIGINAL.replace("self.size + n", "n + self.size")
    method = grown.replace(
        "    def shrink", "    def _twice(self):\n        return 2\n\n    def shrink"
    )
    assert verdict(method, "Box.grow") == (
        "scope",
        "adds method _twice to class Box: new class members are not supported,"
        " only module-level helpers",
    )
    second = grown.replace(
        "    def shrink", "    def shrink(self, n):\n        return n\n\n    def shrink"
    )
    assert verdict(second, "Box.grow") == ("scope", "redefines existing name Box.shrink")


def test_a_class_that_opens_the_file_may_get_an_import_above_it() -> None:
    source = "class Box:\n    def grow(self, n):\n        return n\n"
    new = "import heapq\n\n\nclass Box:\n    def grow(self, n):\n        return n + 0\n"
    assert verdict_of(source, new, "Box.grow") is None


PROPERTY = """class Box:
    @property
    def size(self):
        return self._size

    @size.setter
    def size(self, value):
        self._size = value
"""


def property_verdict(new: str, line: int) -> tuple[str, str] | None:
    ref = TargetRef("m.py", "Box.size")
    target = Target(ref, "", line, Metrics(1, 0.0, 100.0, 1))
    return check_static(Candidate("c", ref, "test", {"m.py": new}, "test"), target, PROPERTY)


@pytest.mark.parametrize(
    ("new", "line", "reason"),
    [
        # the getter is the target (its line): it may change, and only it
        (PROPERTY.replace("return self._size", "return self._size + 0"), 3, None),
        (PROPERTY.replace("self._size = value", "self._size = int(value)"), 3, "not the target"),
        # the setter is the target: the other way round
        (PROPERTY.replace("self._size = value", "self._size = int(value)"), 7, None),
        (PROPERTY.replace("return self._size", "return self._size + 0"), 7, "not the target"),
        (PROPERTY + "\n    @size.deleter\n    def size(self):\n        pass\n", 3, "redefines"),
        (PROPERTY.split("\n    @size.setter")[0] + "\n", 3, "removes the definition 'size'"),
    ],
)
def test_a_name_defined_twice_may_change_only_at_the_target_line(
    new: str, line: int, reason: str | None
) -> None:
    found = property_verdict(new, line)
    assert found is None if reason is None else found is not None and reason in found[1]

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
        (ORIGINAL + "\nprint('hi')\n", "scope", "not an import, constant or definition"),
        (ORIGINAL + "\nhelper = None\n", "scope", "rebinds helper"),
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

"""Rewrites that pass the repo's visible tests but are wrong, or cheat the timing, are rejected.

One repository, one run of the loop over all its targets, hand-made candidates for each: the
visible tests are weak on purpose, so only the differential check on recorded calls, the
property check on generated inputs, the timing checks or the tamper guard can object.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent import loop
from agent.domain import RunReport, TargetRef
from agent.project.runner import Project
from agent.verify import equivalence as same
from sandbox import Sandbox
from tests.conftest import Offer, StaticProvider, init_repo, run_config, write_files

ORIGINAL = {
    "unique": """
        def unique(items):
            out = []
            for item in items:
                if item not in out:
                    out.append(item)
            return out
    """,
    "by_score": """
        def by_score(records: list[tuple[str, int]]) -> list[tuple[str, int]]:
            out: list[tuple[str, int]] = []
            for record in records:
                place = len(out)
                while place > 0 and out[place - 1][1] > record[1]:
                    place -= 1
                out.insert(place, record)
            return out
    """,
    "smallest_three": """
        def smallest_three(values: list[int]) -> list[int]:
            ordered = sorted(values)
            return ordered[:3]
    """,
    "first_word": """
        def first_word(text: str) -> str:
            words = text.split()
            if not words:
                raise ValueError("no words")
            return words[0]
    """,
    "running_max": """
        def running_max(values: list[int]) -> list[int]:
            out = []
            best = None
            for value in values:
                best = value if best is None or value > best else best
                out.append(best)
            return out
    """,
    "total": """
        def total(values: list[int]) -> int:
            result = 0
            for value in values:
                result = result + value
            return result
    """,
}

# name → (target, code of the rewritten target, the stage that must reject it, words in why)
WRONG = {
    "order lost": (
        "unique",
        "def unique(items):\n    return list(set(items))\n",
        "equivalence",
        "on a call from the tests",
    ),
    "unhashable items": (
        "unique",
        "def unique(items):\n    return list(dict.fromkeys(items))\n",
        "equivalence",
        "TypeError",
    ),
    "tie order changed": (
        "by_score",
        "def by_score(records: list[tuple[str, int]]) -> list[tuple[str, int]]:\n"
        "    return sorted(records, key=lambda r: r[1], reverse=True)[::-1]\n",
        "equivalence",
        "the result differs at [",
    ),
    "input mutated": (
        "smallest_three",
        "def smallest_three(values: list[int]) -> list[int]:\n"
        "    values.sort()\n    return values[:3]\n",
        "equivalence",
        "leaves the arguments different: argument 1",
    ),
    "cache hands out one list": (
        "smallest_three",
        "_SEEN: dict[tuple[int, ...], list[int]] = {}\n\n\n"
        "def smallest_three(values: list[int]) -> list[int]:\n"
        "    key = tuple(values)\n    if key not in _SEEN:\n"
        "        _SEEN[key] = sorted(values)[:3]\n    return _SEEN[key]\n",
        "equivalence",
        "a caller that changes one result changes the next",
    ),
    "another exception": (
        "first_word",
        "def first_word(text: str) -> str:\n    return text.split(maxsplit=1)[0]\n",
        "equivalence",
        "raises IndexError('list index out of range') where the original raises ValueError",
    ),
    "off by one on empty input": (
        "running_max",
        "def running_max(values: list[int]) -> list[int]:\n"
        "    out = [values[0]]\n    for value in values[1:]:\n"
        "        out.append(max(out[-1], value))\n    return out\n",
        "equivalence",
        "where the original returns []",
    ),
    "patches the clock": (
        "total",
        "import time\n\n"
        "_FROZEN = setattr(time, 'perf_counter_ns', lambda: 0)"
        " or setattr(time, 'perf_counter', lambda: 0.0)\n\n\n"
        "def total(values: list[int]) -> int:\n    result = 0\n    for value in values:\n"
        "        result = result + value\n    return result\n",
        "capability",  # stopped before it runs; tests/hostile keeps the timer's own defence
        "sets attributes by name (setattr)",
    ),
    "detects pytest": (
        "total",
        "import os\n\n\n"
        "def total(values: list[int]) -> int:\n"
        "    if 'PYTEST_CURRENT_TEST' not in os.environ:\n        return 0\n"
        "    result = 0\n    for value in values:\n        result = result + value\n"
        "    return result\n",
        "capability",
        "reads the environment variable PYTEST_CURRENT_TEST, which the original does not",
    ),
    "detects the timer": (
        "total",
        "import sys\n\n\n"
        "def total(values: list[int]) -> int:\n"
        "    frame = sys._getframe(1)\n    while frame is not None:\n"
        "        if frame.f_code.co_name == 'measure':\n            return sum(values[1:])\n"
        "        frame = frame.f_back\n"
        "    result = 0\n    for value in values:\n        result = result + value\n"
        "    return result\n",
        "capability",
        "inspects frames (sys._getframe)",
    ),
    "edits a test": (
        "total",
        "_EDIT = open('tests/test_funcs.py', 'a').write('\\n')\n\n\n"
        + textwrap.dedent(ORIGINAL["total"]),
        "capability",
        "runs code at import",
    ),
}

TESTS = """
    from pkg.funcs import by_score, first_word, running_max, smallest_three, total, unique


    def test_unique():
        assert sorted(unique([3, 1, 3, 2])) == [1, 2, 3]
        assert sorted(unique(list(range(50)) * 2)) == list(range(50))
        assert unique([[1], [2], [1]]) == [[1], [2]]  # unhashable items: in the domain


    def test_by_score():
        records = [("a", 3), ("b", 1), ("c", 2), ("d", 0)]
        assert [s for _, s in by_score(records)] == [0, 1, 2, 3]
        assert by_score([("x", 5), ("y", 4), ("z", 5)])[0] == ("y", 4)


    def test_smallest_three():
        assert smallest_three([5, 1, 4, 2, 3]) == [1, 2, 3]


    def test_first_word():
        assert first_word("hello big world") == "hello"


    def test_running_max():
        assert running_max([1, 3, 2, 5]) == [1, 3, 3, 5]


    def test_total():
        assert total(list(range(1000))) == 499500
        assert total([5, -5, 7]) == 7
"""


def module_with(target: str | None = None, code: str = "") -> str:
    """The module with ``target``'s definition replaced by ``code``, in place."""
    parts = [
        textwrap.dedent(code if name == target else src).strip() for name, src in ORIGINAL.items()
    ]
    return "\n\n\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> RunReport:
    repo = init_repo(
        tmp_path_factory.mktemp("trust") / "repo",
        {"pkg/__init__.py": "", "pkg/funcs.py": module_with(), "tests/test_funcs.py": TESTS},
    )
    config = run_config(
        repo,
        targets=tuple(f"pkg/funcs.py::{name}" for name in ORIGINAL),
        candidates=10,
        rounds=1,
        branch="evolver/trust",
        jobs=2,
    )
    offers = [
        Offer(name, {"pkg/funcs.py": module_with(of, code)}, target=of)
        for name, (of, code, _, _) in WRONG.items()
    ]
    return loop.run(config, StaticProvider(offers), loop.Silent())


@pytest.mark.pipeline
@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_or_cheating_rewrites_are_rejected(report: RunReport, name: str) -> None:
    [outcome] = [o for o in report.outcomes if o.candidate.summary == name]
    _, _, stage, words = WRONG[name]
    assert not outcome.verdict.accepted
    assert outcome.verdict.stage == stage, outcome.verdict.reason
    assert words in outcome.verdict.reason


@pytest.mark.pipeline
def test_every_candidate_was_judged(report: RunReport) -> None:
    assert sorted(o.candidate.summary for o in report.outcomes) == sorted(WRONG)
    assert report.committed == 0


# A constructor whose half-built ``self`` (as a recorded call holds it: the object before
# ``__init__`` ran) cannot be printed, compared or hashed: ``__repr__``, ``__eq__`` and
# ``__hash__`` need what ``__init__`` sets. Slots, like sqlparse's ``Token``.
TOKEN = """
class Token:
    __slots__ = ("kind", "value", "upper")

    def __init__(self, kind, value):
        {neutral}self.kind = kind
        self.value = value
        self.upper = value.upper() if kind == "keyword" else value

    def __repr__(self):
        return f"<{{self.kind}} {{self.value!r}}>"

    def __eq__(self, other):
        return (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self):
        return hash((self.kind, self.value))
"""
# The calls as the recorder pickles them: ``self`` before the call, the other arguments.
RECORD_HALF_BUILT = """
import pickle
from pkg.tok import Token
for kind, value in [("keyword", "select"), ("name", "price"), ("keyword", "from")]:
    call = ((object.__new__(Token), kind, value), {})
    print(pickle.dumps(call).hex())
"""


def test_a_constructor_and_an_identical_candidate_agree(tmp_path: Path) -> None:
    """The original observed on its recorded, generated and probe calls, and the same code
    (plus a ``pass``) checked against it: nothing differs, and every real call is compared."""
    original, candidate = tmp_path / "original", tmp_path / "candidate"
    write_files(original, {"pkg/__init__.py": "", "pkg/tok.py": TOKEN.format(neutral="")})
    write_files(
        candidate, {"pkg/__init__.py": "", "pkg/tok.py": TOKEN.format(neutral="pass\n        ")}
    )
    made = subprocess.run(
        [sys.executable, "-c", RECORD_HALF_BUILT], cwd=original, capture_output=True, check=True
    )
    recorded = [bytes.fromhex(line) for line in made.stdout.decode().split()]
    target, project = TargetRef("pkg/tok.py", "Token.__init__"), Project()
    with (
        Sandbox.create(tmp_path / "boxes", original) as before,
        Sandbox.create(tmp_path / "boxes", candidate) as after,
    ):
        generated = same.generate_inputs(project, before, target, recorded, 10, 120)
        calls = [*recorded, *generated.calls, *generated.probes]
        origins = ["recorded"] * len(recorded) + ["generated"] * len(generated.calls)
        origins += ["probe"] * len(generated.probes)
        behaviour = same.reference(project, before, target, calls, origins, 120)
        judged = same.check(project, after, target, behaviour, 1e-9, 120, strict=True)
    assert judged.reason is None and judged.probes_differing == 0
    assert behaviour.counts()["recorded"] == len(recorded), behaviour.notes
    assert behaviour.counts()["generated"] > 0, (generated.note, behaviour.notes)


def test_an_original_that_cannot_be_observed_is_left_out_and_said(tmp_path: Path) -> None:
    """The original's sandbox runs no candidate code: when observing it fails, nothing is
    compared, the notes say why, and no candidate is held to it."""
    write_files(tmp_path / "original", {"pkg/__init__.py": "", "pkg/gone.py": GONE})
    target = TargetRef("pkg/gone.py", "leave")
    with Sandbox.create(tmp_path / "boxes", tmp_path / "original") as before:
        behaviour = same.reference(
            Project(), before, target, [pickle.dumps(((1,), {}))], ["recorded"], 60
        )
    assert not behaviour.calls and not behaviour.checkable
    assert behaviour.notes[0].startswith("behaviour not compared per call: observing the original")


GONE = """
import os


def leave(code):
    os._exit(code)
"""


# What a module's ``__getattr__`` returns (dateutil's lazy submodules), and a path into the
# project: both say where the copy lives, which differs from sandbox to sandbox.
LAZY = """
import importlib
import os


def load(name):
    {neutral}return importlib.import_module("pkg." + name)


def where(name):
    return os.path.join(os.path.dirname(__file__), name)
"""


@pytest.mark.parametrize("function", ["load", "where"])
def test_the_copys_location_is_not_behaviour(tmp_path: Path, function: str) -> None:
    """Original and an identical candidate run from two copies: a module is its name and a
    path is relative to the copy, so nothing differs; a different module still does."""
    original, candidate, other = tmp_path / "original", tmp_path / "candidate", tmp_path / "o"
    files = {"pkg/__init__.py": "", "pkg/util.py": "", "pkg/more.py": ""}
    write_files(original, {**files, "pkg/lazy.py": LAZY.format(neutral="")})
    write_files(candidate, {**files, "pkg/lazy.py": LAZY.format(neutral="pass\n    ")})
    write_files(other, {**files, "pkg/lazy.py": LAZY.format(neutral="name = 'more'\n    ")})
    target, project = TargetRef("pkg/lazy.py", function), Project()
    calls = [pickle.dumps((("util",), {}))]
    with (
        Sandbox.create(tmp_path / "boxes", original) as before,
        Sandbox.create(tmp_path / "boxes", candidate) as after,
        Sandbox.create(tmp_path / "boxes", other) as different,
    ):
        behaviour = same.reference(project, before, target, calls, ["recorded"], 120)
        judged = same.check(project, after, target, behaviour, 1e-9, 120)
        wrongly = same.check(project, different, target, behaviour, 1e-9, 120)
    assert behaviour.counts()["recorded"] == 1, behaviour.notes
    assert judged.reason is None
    if function == "load":
        assert wrongly.reason is not None and "pkg.more" in wrongly.reason, wrongly.reason


SHAPES_TEST = """
from pkg.area import area


class Box:
    def __init__(self, width, height):
        self.width, self.height = width, height


def test_area():
    assert area(Box(2, 3)) == 6
"""
# As pytest imports it (prepend mode: the test's folder first on sys.path, "test_shapes").
RECORD_FROM_A_TEST = """
import pickle, sys
sys.path.insert(0, "tests")
from test_shapes import Box
print(pickle.dumps(((Box(2, 3),), {})).hex())
"""


def test_a_value_a_test_module_made_can_be_observed(tmp_path: Path) -> None:
    """A class defined in a test module (imported by pytest from its own folder) loads in the
    harness too, so the call it was recorded on is compared, not left out."""
    tree = tmp_path / "tree"
    area = "def area(box):\n    return box.width * box.height\n"
    write_files(
        tree, {"pkg/__init__.py": "", "pkg/area.py": area, "tests/test_shapes.py": SHAPES_TEST}
    )
    made = subprocess.run(
        [sys.executable, "-c", RECORD_FROM_A_TEST], cwd=tree, capture_output=True, check=True
    )
    call = bytes.fromhex(made.stdout.decode().strip())
    with Sandbox.create(tmp_path / "boxes", tree) as box:
        behaviour = same.reference(
            Project(), box, TargetRef("pkg/area.py", "area"), [call], ["test"], 120
        )
    assert behaviour.counts()["test"] == 1, behaviour.notes

"""``timing.compare(..., sequences=True)``: a class timed on recorded sequences, construction
included, in real sandboxes and real timing processes.

The sequences are built here the way ``evolver_sequence_recorder`` writes them (a pickle of
``[(name, pickled (args, kwargs)), ...]``, the constructor first); test_sequences.py records
them through the real recorder.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from agent.domain import TargetRef, Timing
from agent.profile.recording import record_calls
from agent.project.runner import Project
from agent.verify.timing import Comparison, TimingPlan, changed_while_timed, compare
from sandbox import Sandbox
from tests.conftest import write_files
from tests.test_sequences import INDEXED as RECORDS_INDEXED
from tests.test_sequences import PROJECT, _project

TARGET = TargetRef("pkg/book.py", "Book.lookup")
# Small processes, so that a test takes seconds: what is on the clock is under test, not the
# precision.
PLAN = TimingPlan(processes=2, values=2, min_time=0.03, most_processes=6, budget=30.0)
BAR = 1.05

# The original: lookup scans a list. ``add`` returns the book, so a step's result is an object
# of the class, described by its public state only.
BOOK = """
    class Book:
        def __init__(self, pairs):
            self.pairs = list(pairs)

        def add(self, key, value):
            self.pairs.append((key, value))
            return self

        def lookup(self, key):
            for known, value in self.pairs:
                if known == key:
                    return value
            return None
"""

# An index built in __init__ and kept by add: a private attribute, not a difference.
INDEXED = """
    class Book:
        def __init__(self, pairs):
            self.pairs = list(pairs)
            self._index = {}
            for key, value in self.pairs:
                self._index.setdefault(key, value)

        def add(self, key, value):
            self.pairs.append((key, value))
            self._index.setdefault(key, value)
            return self

        def lookup(self, key):
            return self._index.get(key)
"""

# The same index, built a hundred times over: every lookup is faster, the constructor is not.
COSTLY = INDEXED.replace(
    "            self._index = {}\n",
    "            for _ in range(100):\n"
    "                self._index = {key: value for key, value in reversed(self.pairs)}\n"
    "            self._index = {}\n",
)

# The index, and a lie once it has answered more lookups than one pass over the sequences
# makes (the count is the module's: it starts again with every sample, when the module is
# reloaded): right on the first pass of a process and the first loop of a sample, wrong on
# the later loops.
TIMED_LIAR = INDEXED.replace(
    "        def lookup(self, key):\n",
    "        def lookup(self, key):\n"
    "            global ANSWERED\n"
    "            ANSWERED += 1\n"
    "            if ANSWERED > 200:\n"
    "                return None\n",
).replace("class Book:", "ANSWERED = 0\n\n\n    class Book:", 1)


def sequence(pairs: int, steps: list[tuple[str, tuple[Any, ...]]]) -> bytes:
    """A recorded sequence: a book of ``pairs`` pairs, then ``steps``."""
    book = [(key, f"v{key}") for key in range(pairs)]
    recorded = [("__init__", pickle.dumps(((book,), {})))]
    recorded += [(name, pickle.dumps((args, {}))) for name, args in steps]
    return pickle.dumps(recorded)


# Lookups dominate: a hundred of them, some missing, on a book of 400, with adds between.
LOOKUPS = [
    sequence(400, [("lookup", (key * 7 % 450,)) for key in range(100)] + [("add", (999, "x"))]),
    sequence(300, [("add", (-1, "new")), *[("lookup", (key * 3,)) for key in range(100)]]),
]
# Construction dominates: a book of 400 and three lookups.
CONSTRUCTION = [sequence(400, [("lookup", (5,)), ("lookup", (399,)), ("lookup", (1000,))])]


def timed(tmp_path: Path, candidate: str, sequences: list[bytes]) -> Comparison:
    """The original book against ``candidate``'s, on ``sequences``, against the bar."""
    roots = []
    for name, code in (("original", BOOK), ("candidate", candidate)):
        write_files(tmp_path / name, {"pkg/__init__.py": "", "pkg/book.py": code})
        roots.append(tmp_path / name)
    with (
        Sandbox.create(tmp_path / "boxes", roots[0]) as before,
        Sandbox.create(tmp_path / "boxes", roots[1]) as after,
    ):
        return compare(
            Project(), before, after, TARGET, sequences, PLAN, min_speedup=BAR, sequences=True
        )


def test_an_index_built_by_the_constructor_is_timed_faster_on_the_sequences(
    tmp_path: Path,
) -> None:
    compared = timed(tmp_path, INDEXED, LOOKUPS)
    assert compared.timing.ci[0] >= BAR and not compared.undecided, compared.timing
    assert compared.timing.first_call >= BAR
    # Its private index is its own business: the two sides' digests agree.
    assert changed_while_timed(compared) is None
    assert all(len(digests) == 1 for digests in compared.seen[0].values())
    assert compared.seen[0] == compared.seen[1]


def test_a_costlier_constructor_is_paid_for_where_construction_dominates(
    tmp_path: Path,
) -> None:
    compared = timed(tmp_path, COSTLY, CONSTRUCTION)
    assert compared.timing.speedup < 1 and compared.timing.ci[0] < BAR, compared.timing
    assert changed_while_timed(compared) is None


def test_a_candidate_that_behaves_otherwise_while_timed_is_caught(tmp_path: Path) -> None:
    compared = timed(tmp_path, TIMED_LIAR, LOOKUPS)
    assert changed_while_timed(compared) == (
        "on recorded sequence 1: behaves differently while timed than the original does"
    )
    # Right on every first pass, as a check outside the timing would see it.
    assert all(compared.seen[1][n] > compared.seen[0][n] for n in range(len(LOOKUPS)))


def test_the_original_against_itself_is_not_called_faster(tmp_path: Path) -> None:
    compared = timed(tmp_path, BOOK, LOOKUPS)
    assert compared.timing.ci[0] < BAR, compared.timing
    assert changed_while_timed(compared) is None


def test_a_sequence_varying_by_itself_judges_nothing() -> None:
    """Where the original's own digests of a sequence differ, the candidate's are not held to
    them; where they are one value, the candidate must give that value only."""
    timing = Timing(1.0, (1.0, 1.0), 4, 1.0, 0.95)
    varying = Comparison(timing, ({0: {"a", "b"}, 1: {"c"}}, {0: {"z"}, 1: {"c"}}), frozenset())
    assert changed_while_timed(varying) is None
    missing = Comparison(timing, ({0: {"a", "b"}, 1: {"c"}}, {0: {"z"}}), frozenset())
    assert changed_while_timed(missing) == (
        "on recorded sequence 2: behaves differently while timed than the original does"
    )


def test_sequences_the_recorder_kept_are_timed_alike_on_both_sides(tmp_path: Path) -> None:
    """The real recorder's sequences (test_sequences.py's book: a ``remove`` that raises among
    them) time as they replay: the candidate's private index does not show in its digests."""
    with (
        Sandbox.create(tmp_path / "boxes", _project(tmp_path / "original")) as before,
        Sandbox.create(tmp_path / "boxes", _project(tmp_path / "new", RECORDS_INDEXED)) as after,
    ):
        recorded = record_calls(PROJECT, before, [TARGET])[TARGET].sequences
        compared = compare(PROJECT, before, after, TARGET, recorded, PLAN, sequences=True)
    assert len(recorded) == 3 and set(compared.seen[0]) == {0, 1, 2}
    assert changed_while_timed(compared) is None

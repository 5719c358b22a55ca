"""Sequences of calls on real objects: recorded by the real recorder in a sandboxed run of a
project's tests and workload, replayed in sandboxes on the original and on candidates that
change a class (an index kept from ``__init__`` on), and compared step by step in Evolver's
process as validated JSON. Nothing here is mocked: real projects, sandboxes and processes."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent._harness.evolver_observe import digest
from agent.domain import TargetRef
from agent.profile.recording import Recording, Sampling, _entry, _MalformedDump, record_calls
from agent.project.runner import Project
from agent.verify.answers import MalformedAnswer, SequencesAnswer, parse_answer
from agent.verify.sequences import SequenceBehaviour, check_sequences, observe_sequences
from sandbox import Sandbox
from tests.conftest import write_files

TARGET = TargetRef("pkg/book.py", "Book.lookup")
SECRET = "sk-live-0123456789abcdefghijklmnopqrstuv"

# The original: a hot lookup that scans a list. ``_lookups`` is private: not compared.
BOOK = """
    class Book:
        def __init__(self, records=()):
            self.records = []
            self.size = 0
            self._lookups = 0
            for record in records:
                self.add(record)  # a call inside the constructor: not a step of its own

        def add(self, record):
            self.records.append(record)
            self.size += 1

        def remove(self, key):
            for number, record in enumerate(self.records):
                if record["id"] == key:
                    del self.records[number]
                    self.size -= 1
                    return record
            raise KeyError(key)

        def lookup(self, key):
            self._lookups += 1
            for record in self.records:
                if record["id"] == key:
                    return record
            return None
"""

# The right idea: an index built in __init__, kept by add and remove (first record per id).
INDEXED = """
    class Book:
        def __init__(self, records=()):
            self.records = []
            self.size = 0
            self._index = {}
            for record in records:
                self.add(record)

        def add(self, record):
            self.records.append(record)
            self.size += 1
            self._index.setdefault(record["id"], record)

        def remove(self, key):
            record = self._index.pop(key, None)
            if record is None:
                raise KeyError(key)
            self.records.remove(record)
            self.size -= 1
            for other in self.records:
                if other["id"] == key:
                    self._index[key] = other
                    break
            return record

        def lookup(self, key):
            return self._index.get(key)
"""

# The same index, but add forgets it: lookups of records added later find nothing.
FORGETFUL = INDEXED.replace('            self._index.setdefault(record["id"], record)\n', "", 1)
FORGETFUL = FORGETFUL.replace(
    "            for record in records:\n                self.add(record)\n",
    "            for record in records:\n                self.add(record)\n"
    '                self._index.setdefault(record["id"], record)\n',
)

# Records kept sorted by id: every lookup answers alike, but a public attribute differs.
SORTED = BOOK.replace(
    "            self.records.append(record)\n",
    "            self.records.append(record)\n"
    '            self.records.sort(key=lambda kept: kept["id"])\n',
)

TESTS = """
    import pytest

    from pkg.book import Book


    def test_book():
        book = Book([{"id": 5, "name": "e"}, {"id": 2, "name": "b"}])
        book.add({"id": 9, "name": "i"})
        assert book.lookup(9) == {"id": 9, "name": "i"}
        assert book.remove(5)["name"] == "e"
        assert book.lookup(5) is None
        with pytest.raises(KeyError):
            book.remove(7)
        book.add({"id": 5, "name": "again"})
        assert book.lookup(5)["name"] == "again"
        assert book.size == 3


    def test_empty():
        assert Book().lookup(1) is None
"""

WORKLOAD = """
    from pkg.book import Book

    book = Book([{"id": i, "name": str(i)} for i in range(50)])
    for key in range(0, 60, 7):
        book.lookup(key)
    book.add({"id": 99, "name": "new"})
    print(book.lookup(99)["name"])
"""


def _project(root: Path, book: str = BOOK, tests: str = TESTS) -> Path:
    files = {"pkg/__init__.py": "", "pkg/book.py": book, "tests/test_book.py": tests}
    write_files(root, {**files, "workload.py": WORKLOAD})
    return root


PROJECT = Project(workload="python workload.py")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Recording, Sandbox]]:
    """The book project recorded by the real recorder (tests, then the workload), and the
    original's sandbox, kept for the module."""
    root = tmp_path_factory.mktemp("book")
    with Sandbox.create(root / "boxes", _project(root / "src")) as sandbox:
        yield record_calls(PROJECT, sandbox, [TARGET])[TARGET], sandbox


@pytest.fixture(scope="module")
def behaviour(recorded: tuple[Recording, Sandbox]) -> SequenceBehaviour:
    recording, sandbox = recorded
    return observe_sequences(PROJECT, sandbox, TARGET, recording.sequences, timeout=60)


def _check(tmp_path: Path, behaviour: SequenceBehaviour, book: str) -> str | None:
    """The reason ``book`` (the candidate's pkg/book.py) differs on the recorded sequences."""
    with Sandbox.create(tmp_path / "boxes", _project(tmp_path / "src", book)) as sandbox:
        return check_sequences(PROJECT, sandbox, TARGET, behaviour, timeout=60)


def test_the_recorder_keeps_each_objects_calls_in_order(
    behaviour: SequenceBehaviour, recorded: tuple[Recording, Sandbox]
) -> None:
    recording = recorded[0]
    # The workload's object, then the tests' two; the constructor's own add calls are not steps.
    names = [replayed.names for replayed in behaviour.replays]
    assert names == [
        ["__init__", *["lookup"] * 9, "add", "lookup"],
        ["__init__", "add", "lookup", "remove", "lookup", "remove", "add", "lookup"],
        ["__init__", "lookup"],
    ]
    assert recording.sequences_truncated == 0
    assert behaviour.notes == ()
    assert len(behaviour.checkable) == sum(map(len, names))
    # The calls of the target itself are still recorded as before: ``self`` and the key.
    assert recording.test_calls and recording.workload_calls


def test_a_step_shows_its_outcome_and_only_the_public_state(
    behaviour: SequenceBehaviour,
) -> None:
    tests_book = behaviour.replays[1]
    removed = tests_book.steps[5]  # remove(7): KeyError
    assert removed is not None
    assert removed["outcome"]["raised"] == ["KeyError", "7"]
    state = tests_book.steps[-1]
    assert state is not None
    attributes = [name for name, _ in state["state"][2]]
    assert attributes == ["records", "size"]  # not _lookups


def test_the_original_against_itself_has_no_difference(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    assert _check(tmp_path, behaviour, BOOK) is None


def test_an_index_kept_by_the_constructor_add_and_remove_has_no_difference(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    assert _check(tmp_path, behaviour, INDEXED) is None


def test_an_index_that_add_forgets_is_caught_at_the_step_that_shows_it(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    why = _check(tmp_path, behaviour, FORGETFUL)
    assert why == (
        "on recorded sequence 1, step 12 (lookup(99)): returns None where the original "
        "returns {'id': 99, 'name': 'new'}"
    )


def test_a_changed_public_attribute_is_caught(tmp_path: Path, behaviour: SequenceBehaviour) -> None:
    why = _check(tmp_path, behaviour, SORTED)
    assert why is not None
    assert why.startswith("on recorded sequence 2, step 1 (Book([{'id': 5, 'name': 'e'}")
    assert why.endswith("leaves self.records[0]['id'] as 2 where the original leaves 5")


def test_a_step_that_hangs_is_caught(tmp_path: Path, behaviour: SequenceBehaviour) -> None:
    lookup = "            return self._index.get(key)\n"
    hangs = INDEXED.replace(lookup, "            while True:\n                pass\n")
    why = _check(tmp_path, behaviour, hangs)
    assert why is not None
    assert why.startswith("on recorded sequence 1, step 2 (lookup(0)): did not finish in 2.0s")


# A candidate that forges the replay's answer at exit: a digest that is not its step's.
FORGER = """
    import atexit, json, sys


    def _forge():
        with open(sys.argv[1]) as spec:
            out = json.load(spec)["out"]
        with open(out) as handle:
            answer = json.load(handle)
        answer["sequences"][0]["digests"][0] = "0" * 32
        with open(out, "w") as handle:
            json.dump(answer, handle)


    atexit.register(_forge)
"""


def test_a_forged_answer_is_refused_with_a_reason(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    why = _check(tmp_path, behaviour, INDEXED + FORGER)
    assert why == (
        "replaying the recorded sequences, the harness gave a malformed answer: "
        "sequences[0]: a digest does not match its step"
    )


def _step(state: Any = None) -> dict[str, Any]:
    return {"outcome": {"returned": None, "args": ["seq", "tuple", []]}, "state": state}


def _answer(**changes: Any) -> dict[str, Any]:
    step = _step(["map", "dict", [["size", 0]]])
    sequence = {
        "names": ["__init__"],
        "steps": [step],
        "digests": [digest(step)],
        "seconds": [0.001],
        "inputs": [None],
        "timed_out_at": None,
    }
    return {"sequences": [{**sequence, **changes}]}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"digests": ["0" * 32]}, "a digest does not match its step"),
        ({"names": ["lookup"]}, "does not begin with its constructor"),
        ({"names": [f"x; {SECRET}"]}, "names[0]"),
        ({"seconds": []}, "lists of different lengths"),
        ({"seconds": [float("nan")]}, "seconds[0]"),
        ({"timed_out_at": 3}, "timed_out_at names no step"),
        ({"steps": [{**_step(), "private": 1}]}, "a step is not an object of outcome and state"),
        ({"steps": [_step(["obj"])]}, "not [kind, type name, payload]"),
        ({"steps": [{"outcome": {"args": None}, "state": None}]}, "neither returns nor raises"),
        ({"spare": True}, "spare"),
    ],
)
def test_malformed_answers_are_refused_without_quoting_them(
    changes: dict[str, Any], words: str
) -> None:
    honest = _answer()
    assert parse_answer(SequencesAnswer, json.loads(json.dumps(honest))).sequences
    with pytest.raises(MalformedAnswer) as refused:
        parse_answer(SequencesAnswer, json.loads(json.dumps(_answer(**changes), allow_nan=True)))
    assert words in str(refused.value)
    assert SECRET not in str(refused.value)


CAPPED_TESTS = """
    from pkg.book import Book


    def test_long():
        book = Book()
        for key in range(6):
            book.add({"id": key})


    def test_unpicklable_argument_ends_the_sequence():
        book = Book()
        book.add({"id": 1})
        book.add({"id": 2, "call": lambda: 0})
        assert book.lookup(1) == {"id": 1}


    def test_unpicklable_constructor_is_not_kept():
        Book([{"id": 1, "call": lambda: 0}]).lookup(1)


    def test_many():
        for key in range(4):
            Book().lookup(key)


    def test_a_dead_objects_id_never_continues_its_sequence():
        book = Book()
        book.add({"id": 7})
        book.add({"id": 8})
        address = id(book)
        del book
        other = object.__new__(Book)  # built without __init__: not an object recorded
        other.records, other.size, other._lookups = [], 0, 0
        print("id reused:", id(other) == address)
        other.lookup(7)
"""


def _record_capped(tmp_path: Path, sampling: Sampling) -> tuple[Recording, list[list[str]]]:
    """The capped project recorded with ``sampling``; each kept sequence's steps, replayed."""
    source = _project(tmp_path / "src", tests=CAPPED_TESTS)
    (source / "workload.py").unlink()
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        recording = record_calls(Project(), sandbox, [TARGET], sampling=sampling)[TARGET]
        replayed = observe_sequences(Project(), sandbox, TARGET, recording.sequences, 60)
    return recording, [answer.names for answer in replayed.replays]


def test_steps_past_the_cap_and_unpicklable_arguments_truncate_a_sequence(
    tmp_path: Path,
) -> None:
    recording, names = _record_capped(tmp_path, Sampling(max_sequences=8, max_steps=3))
    assert names == [
        ["__init__", "add", "add", "add"],  # six adds, three kept
        ["__init__", "add"],  # the lambda's add ends it, and the lookup after it is not kept
        # (the constructor given a lambda is not kept at all)
        *[["__init__", "lookup"]] * 4,
        ["__init__", "add", "add"],  # the object built without __init__ on its id: not kept
    ]
    assert recording.sequences_truncated == 2


def test_at_most_the_sampled_number_of_objects_is_kept(tmp_path: Path) -> None:
    recording, names = _record_capped(tmp_path, Sampling(max_sequences=2, max_steps=3))
    assert len(recording.sequences) == 2
    assert all(steps[0] == "__init__" for steps in names)


def test_a_dump_without_sequences_still_reads(tmp_path: Path) -> None:
    """A function target's entry (or an older recorder's) has no sequences: none recorded."""
    source = tmp_path / "src"
    write_files(
        source,
        {
            "app/__init__.py": "",
            "app/work.py": "def double(x):\n    return x * 2\n",
            "tests/test_work.py": textwrap.dedent(
                """
                from app.work import double

                def test_double():
                    assert double(2) == 4
                """
            ),
        },
    )
    target = TargetRef("app/work.py", "double")
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        recording = record_calls(Project(), sandbox, [target])[target]
    assert recording.test_calls and recording.sequences == []


@pytest.mark.parametrize(
    ("sequences", "truncated", "words"),
    [
        ("AAAA", [], "sequences are not a list of at most 2"),
        (["AAAA"] * 3, [False] * 3, "sequences are not a list of at most 2"),
        (["AAAA"], [], "not a list as long as the sequences"),
        (["AAAA"], [1], "other than booleans"),
        (["!!not base64!!"], [False], "a sequence: a call is not valid base64"),
        ([7], [False], "a sequence: a call is not base64 text"),
    ],
)
def test_a_dump_with_malformed_sequences_is_refused(
    sequences: Any, truncated: Any, words: str
) -> None:
    entry = {"calls": [], "tests": [], "sequences": sequences, "sequences_truncated": truncated}
    with pytest.raises(_MalformedDump, match=words):
        _entry(entry, 16, max_sequences=2)
    good = {**entry, "sequences": ["AAAA"], "sequences_truncated": [True], "objects": 5}
    assert _entry(good, 16, max_sequences=2).sequences == [b"\x00\x00\x00"]


def test_classes_it_cannot_follow_record_calls_but_no_sequences(tmp_path: Path) -> None:
    """Objects with no weak references (``__slots__``) and classes with no ``__init__`` in
    Python are left alone: the program runs as ever, its calls are still recorded."""
    source = tmp_path / "src"
    write_files(
        source,
        {
            "app/__init__.py": "",
            "app/shapes.py": """
                class Slotted:
                    __slots__ = ("side",)

                    def __init__(self, side):
                        self.side = side

                    def area(self):
                        return self.side * self.side


                class Counter:
                    def bump(self, by):
                        return by + 1
            """,
            "tests/test_shapes.py": """
                from app.shapes import Counter, Slotted


                def test_shapes():
                    assert Slotted(3).area() == 9
                    assert Counter().bump(1) == 2
            """,
        },
    )
    targets = [
        TargetRef("app/shapes.py", "Slotted.area"),
        TargetRef("app/shapes.py", "Counter.bump"),
    ]
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        recordings = record_calls(Project(), sandbox, targets)
    for target in targets:
        assert recordings[target].test_calls, target
        assert recordings[target].sequences == [], target


def test_no_sequences_asked_records_none(tmp_path: Path) -> None:
    source = _project(tmp_path / "src")
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        recordings = record_calls(Project(), sandbox, [TARGET], sampling=Sampling(max_sequences=0))
    recording = recordings[TARGET]
    assert recording.test_calls and recording.sequences == []


def test_an_object_that_is_an_iterator_is_not_drained_by_its_construction(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_files(
        source,
        {
            "app/__init__.py": "",
            "app/countdown.py": """
                class Countdown:
                    def __init__(self, start):
                        self.left = start

                    def __iter__(self):
                        return self

                    def __next__(self):
                        if self.left == 0:
                            raise StopIteration
                        self.left -= 1
                        return self.left

                    def remaining(self):
                        return self.left
            """,
            "tests/test_countdown.py": """
                from app.countdown import Countdown


                def test_countdown():
                    assert Countdown(3).remaining() == 3
            """,
        },
    )
    target = TargetRef("app/countdown.py", "Countdown.remaining")
    with Sandbox.create(tmp_path / "boxes", source) as sandbox:
        recording = record_calls(Project(), sandbox, [target])[target]
        behaviour = observe_sequences(Project(), sandbox, target, recording.sequences, 60)
    steps = behaviour.replays[0].steps
    assert [step["state"] if step else None for step in steps] == [
        ["map", "dict", [["left", 3]]]
    ] * 2
    assert steps[1] is not None and steps[1]["outcome"]["returned"] == 3

"""The stateful probe: sequences drawn in the original's sandbox from the recorded ones, in
orders no recording had, replayed on the original and on candidates that change a class.

The registry's recordings are hand-built in the recorder's format (test data is ours): none
of them looks anything up after a removal, nor looks up or removes a key that is not there;
the last test draws from what the real recorder kept. Real projects, sandboxes and processes
throughout (but one forged answer).
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.domain import TargetRef
from agent.profile.recording import record_calls
from agent.project.runner import Project
from agent.verify.answers import MalformedAnswer, SequenceInputsAnswer, parse_answer
from agent.verify.sequences import (
    GeneratedSequences,
    SequenceBehaviour,
    check_sequences,
    generate_sequences,
    observe_sequences,
)
from sandbox import Sandbox
from tests.conftest import write_files
from tests.test_sequences import PROJECT as BOOK_PROJECT
from tests.test_sequences import TARGET as BOOK_TARGET
from tests.test_sequences import _project as _book_project

TARGET = TargetRef("pkg/registry.py", "Registry.lookup")
PROJECT = Project()
COUNT = 30

# The original: every lookup builds a dict; a removal of a missing key says no on purpose.
REGISTRY = """
    class Registry:
        def __init__(self, records=()):
            self.records = list(records)

        def add(self, record):
            self.records.append(record)

        def remove(self, key):
            for number, record in enumerate(self.records):
                if record["id"] == key:
                    del self.records[number]
                    return record
            raise KeyError(key)

        def lookup(self, key):
            return {record["id"]: record for record in self.records}[key]
"""

# The right idea: an index built in __init__, kept by add and remove.
INDEXED = """
    class Registry:
        def __init__(self, records=()):
            self.records = list(records)
            self._index = {record["id"]: record for record in self.records}

        def add(self, record):
            self.records.append(record)
            self._index[record["id"]] = record

        def remove(self, key):
            if key not in self._index:
                raise KeyError(key)
            record = self._index.pop(key)
            self.records.remove(record)
            return record

        def lookup(self, key):
            return self._index[key]
"""

# remove forgets the index: a lookup after a removal still finds the record.
FORGETFUL = INDEXED.replace("record = self._index.pop(key)", "record = self._index[key]")
# A missing key fails in another operation (IndexError where the original's KeyError).
OTHER_FAILURE = INDEXED.replace("return self._index[key]", "return self._index.get(key) or [][0]")
# A missing key refused on purpose, with another type than the original's own raise.
OTHER_REFUSAL = INDEXED.replace("raise KeyError(key)", "raise ValueError(key)")

A, B, C = ({"id": n, "name": name} for n, name in ((1, "a"), (2, "b"), (3, "c")))


def _sequence(records: list[dict[str, Any]], *steps: tuple[str, Any]) -> bytes:
    """A sequence as ``evolver_sequence_recorder`` pickles it: constructor first."""
    pickled = [("__init__", pickle.dumps(((records,), {})))]
    pickled += [(name, pickle.dumps(((argument,), {}))) for name, argument in steps]
    return pickle.dumps(pickled)


RECORDED = [
    _sequence([A, B], ("lookup", 1), ("add", C), ("lookup", 3)),
    _sequence([A], ("add", B), ("remove", 1)),
    _sequence([A, B], ("lookup", 2)),
]


def _project(root: Path, registry: str = REGISTRY) -> Path:
    write_files(root, {"pkg/__init__.py": "", "pkg/registry.py": registry})
    return root


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("registry")
    with Sandbox.create(root / "boxes", _project(root / "src")) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def generated(original: Sandbox) -> GeneratedSequences:
    return generate_sequences(PROJECT, original, TARGET, RECORDED, COUNT, timeout=60)


@pytest.fixture(scope="module")
def behaviour(original: Sandbox, generated: GeneratedSequences) -> SequenceBehaviour:
    return observe_sequences(
        PROJECT, original, TARGET, RECORDED, timeout=60, generated=generated.sequences
    )


def _check(tmp_path: Path, behaviour: SequenceBehaviour, registry: str) -> str | None:
    with Sandbox.create(tmp_path / "boxes", _project(tmp_path / "src", registry)) as sandbox:
        return check_sequences(PROJECT, sandbox, TARGET, behaviour, timeout=60)


def _names(blob: bytes) -> list[str]:
    return [name for name, _ in pickle.loads(blob)]


def test_generation_is_deterministic_and_draws_orders_no_recording_had(
    original: Sandbox, generated: GeneratedSequences
) -> None:
    again = generate_sequences(PROJECT, original, TARGET, RECORDED, COUNT, timeout=60)
    assert again == generated and generated.note is None
    assert len(generated.sequences) == COUNT == len(set(generated.sequences))
    assert not set(generated.sequences) & set(RECORDED)
    for blob in generated.sequences:  # the recorder's format: (name, pickled (args, kwargs))
        steps = pickle.loads(blob)
        assert steps[0][0] == "__init__" and len(steps) >= 2
        assert all(type(name) is str and type(call) is bytes for name, call in steps)
    # A lookup after a removal: an order none of the recordings had.
    assert any(
        "lookup" in (names := _names(blob))[names.index("remove") :]
        for blob in generated.sequences
        if "remove" in _names(blob)
    )
    # Fewer asked, fewer given: the same first ones.
    fewer = generate_sequences(PROJECT, original, TARGET, RECORDED, 5, timeout=60)
    assert fewer.sequences == generated.sequences[:5]


def test_the_original_repeats_its_generated_sequences(behaviour: SequenceBehaviour) -> None:
    assert behaviour.origins == ["recorded"] * 3 + ["generated"] * COUNT
    assert behaviour.notes == ()
    assert behaviour.describe().endswith(f"of 3 recorded and {COUNT} generated sequences")


def test_an_index_remove_forgets_passes_the_recordings_but_not_the_probe(
    tmp_path: Path, original: Sandbox, behaviour: SequenceBehaviour
) -> None:
    recorded_only = observe_sequences(PROJECT, original, TARGET, RECORDED, timeout=60)
    assert _check(tmp_path / "recorded", recorded_only, FORGETFUL) is None
    why = _check(tmp_path / "probed", behaviour, FORGETFUL)
    assert why is not None and why.startswith("on generated sequence ")
    assert "(lookup(1)): returns {'id': 1, 'name': 'a'} where the original raises KeyError" in why


def test_a_correct_index_passes_the_generated_sequences_too(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    assert _check(tmp_path, behaviour, INDEXED) is None


def test_another_failure_where_the_original_fails_passes_on_generated_sequences_only(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    assert _check(tmp_path / "generated", behaviour, OTHER_FAILURE) is None
    # Held as a recorded sequence is, the same replay differs: the leniency did the work.
    strict = dataclasses.replace(behaviour, origins=["recorded"] * len(behaviour.sequences))
    why = _check(tmp_path / "strict", strict, OTHER_FAILURE)
    assert why is not None and "raises IndexError" in why and "raises KeyError" in why


def test_another_type_where_the_original_raises_on_purpose_is_caught(
    tmp_path: Path, behaviour: SequenceBehaviour
) -> None:
    why = _check(tmp_path, behaviour, OTHER_REFUSAL)
    assert why is not None and why.startswith("on generated sequence ")
    said = "raises ValueError('1') where the original raises KeyError('1')"
    assert why.endswith(f"(remove(1)): {said}")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"sequences": ["not base64!"], "note": None}, "not valid base64"),
        ({"sequences": [b"raw".hex()], "note": None, "more": 1}, "more"),
        ({"sequences": "AAAA", "note": None}, "sequences"),
        ({"sequences": [17], "note": None}, "base64 text"),
        ({"sequences": []}, "note"),
        ({"sequences": [], "note": "x" * 5000}, "note"),
    ],
)
def test_malformed_generation_answers_are_refused(answer: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedAnswer, match=problem):
        parse_answer(SequenceInputsAnswer, answer)


def test_nothing_to_draw_from_is_a_note(original: Sandbox) -> None:
    none = generate_sequences(PROJECT, original, TARGET, [], COUNT, timeout=60)
    assert none == GeneratedSequences([], "no recorded sequence to draw from")
    lone = generate_sequences(PROJECT, original, TARGET, [_sequence([A])], COUNT, timeout=60)
    assert lone.sequences == []
    assert lone.note == "the recorded sequences call no method after their constructor"


def test_sequences_the_real_recorder_kept_are_drawn_from_and_replay(tmp_path: Path) -> None:
    """From a real recording (the book project of test_sequences: its tests and workload), the
    drawn sequences replay on the original, twice alike, step for step."""
    root = _book_project(tmp_path / "src")
    with Sandbox.create(tmp_path / "boxes", root) as sandbox:
        recording = record_calls(BOOK_PROJECT, sandbox, [BOOK_TARGET])[BOOK_TARGET]
        drawn = generate_sequences(
            BOOK_PROJECT, sandbox, BOOK_TARGET, recording.sequences, 10, timeout=60
        )
        seen = observe_sequences(
            BOOK_PROJECT, sandbox, BOOK_TARGET, recording.sequences, 60, drawn.sequences
        )
    assert len(drawn.sequences) == 10 and seen.notes == ()
    generated = [n for n, origin in enumerate(seen.origins) if origin == "generated"]
    steps = sum(len(seen.replays[n].names) for n in generated)
    assert sum(1 for number, _ in seen.checkable if number in generated) == steps

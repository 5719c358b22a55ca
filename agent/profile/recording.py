"""Record real calls to the targets: their arguments, and the tests that reach them.

The recorder (``_harness/sitecustomize.py``) rides in the project's own processes, next to code
that may be hostile (a candidate committed earlier runs here too), and the folder it writes to
is theirs to change. So its dumps are JSON, read bounded (:func:`read_json`) and validated; a
dump that is not exactly what the recorder writes is ignored with a note. The recorded calls
are pickles, and stay opaque bytes here: they only ever go back into a sandbox, where the code
they were recorded from runs anyway. Nothing in this process unpickles them. So are the
sequences of calls recorded on objects of a method target's class (a constructor's call, then
the methods called on that object: ``_harness/evolver_sequence_recorder.py``), one opaque blob
per object, replayed by ``verify/sequences.py``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.domain import TargetRef
from agent.project.runner import Project
from agent.reports.format import plural
from agent.verify.answers import MAX_BLOB_BYTES, decode_blob
from agent.verify.untrusted import (
    UntrustedDataError,
    is_real_directory,
    process_dumps,
    read_json,
    scrub,
    write_new,
)
from sandbox import Sandbox

# What one process may leave: every kept call together (the recorder stays under it), then the
# dump itself (base64 and test ids on top). Larger dumps are not read.
MAX_RECORDED_BYTES = 128 * 1024 * 1024
MAX_DUMP_BYTES = 256 * 1024 * 1024
MAX_TESTS = 100_000  # node ids in one dump
MAX_TEST_ID = 1000

_ENTRY_KEYS = frozenset(
    {"calls", "tests", "seen", "skipped", "largest", "sequences", "sequences_truncated", "objects"}
)
MAX_SIZE = 2**31  # the recorder caps the sizes it notes here
# A pytest node id: a path, "::", a name. Never an option (the ids end up on pytest's command
# line), never a control character.
_TEST_ID = re.compile(r"[^\s\-][^\x00-\x1f\x7f]*::[^\x00-\x1f\x7f]+")


@dataclass
class Recording:
    workload_calls: list[bytes] = field(default_factory=list)  # pickled (args, kwargs)
    test_calls: list[bytes] = field(default_factory=list)
    tests: set[str] = field(default_factory=set)  # pytest node ids that reached the target
    skipped: int = 0  # calls whose arguments could not be pickled
    # The largest size among the arguments of the sampled calls (a container's or string's
    # length, a count; one level inside them too), None when none had one: how many items
    # the target's loops may see, for rules that only pay off on longer ones.
    largest_argument: int | None = None
    # For a method: sequences of calls on objects of its class (each a pickled list of
    # ``(name, pickled (args, kwargs))``, the constructor first as ``"__init__"``; opaque here),
    # the workload's then the tests', and how many of them had calls left out (past the step
    # cap, arguments that did not pickle, the byte budget).
    sequences: list[bytes] = field(default_factory=list)
    sequences_truncated: int = 0

    @property
    def timing_calls(self) -> list[bytes]:
        """What to time on: the workload's calls, or the tests' when the workload made none."""
        return self.workload_calls or self.test_calls


@dataclass
class _Entry:
    """What one dump says about one target."""

    calls: list[bytes] = field(default_factory=list)
    tests: set[str] = field(default_factory=set)
    skipped: int = 0
    largest: int | None = None
    sequences: list[bytes] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)  # per sequence

    def add_sequences(self, other: _Entry, most: int) -> None:
        """``other``'s sequences not already here, up to ``most`` in all."""
        for blob, cut in zip(other.sequences, other.truncated, strict=True):
            if len(self.sequences) < most and blob not in self.sequences:
                self.sequences.append(blob)
                self.truncated.append(cut)


class _MalformedDump(ValueError):
    """A dump that is not what the recorder writes; the message says how, never what it held."""


def record_calls(
    project: Project,
    sandbox: Sandbox,
    targets: list[TargetRef],
    max_calls: int = 16,
    notes: list[str] | None = None,
    sampling: Sampling | None = None,
) -> dict[TargetRef, Recording]:
    """Run the tests, and the workload when it is something else, recording calls to targets
    (and, for methods, sequences of calls on their class's objects), within ``sampling``'s
    bounds (``max_calls`` is read only without one).

    What could not be read (a dump that is not the recorder's) is left out, said in ``notes``.
    """
    notes = [] if notes is None else notes
    sampling = Sampling(max_calls) if sampling is None else sampling
    recordings = {ref: Recording() for ref in targets}
    separate_workload = project.workload_argv(sandbox)[0] != project.tests_argv
    for ref, entry in _recorded(
        lambda env: project.run_tests(sandbox, extra_env=env), sandbox, targets, sampling, notes
    ):
        recording = recordings[ref]
        recording.test_calls = entry.calls
        recording.tests = entry.tests
        recording.skipped += entry.skipped
        recording.largest_argument = _larger(recording.largest_argument, entry.largest)
        _add_sequences(recording, entry)
        if not separate_workload:
            recording.workload_calls = entry.calls
    if separate_workload:
        for ref, entry in _recorded(
            lambda env: project.run_workload(sandbox, env), sandbox, targets, sampling, notes
        ):
            recording = recordings[ref]
            recording.workload_calls = entry.calls
            recording.skipped += entry.skipped
            recording.largest_argument = _larger(recording.largest_argument, entry.largest)
            # The workload's first: what the program really does to its objects.
            _add_sequences(recording, entry, first=True)
    return recordings


@dataclass(frozen=True)
class Sampling:
    """How much the recorder keeps per target: distinct calls; and for a method, objects of its
    class (a reservoir over those constructed) and calls per object after its constructor."""

    max_calls: int = 16
    max_sequences: int = 8
    max_steps: int = 64


def _add_sequences(recording: Recording, entry: _Entry, first: bool = False) -> None:
    fresh = [blob for blob in entry.sequences if blob not in recording.sequences]
    cut = sum(entry.truncated[entry.sequences.index(blob)] for blob in fresh)
    recording.sequences = fresh + recording.sequences if first else recording.sequences + fresh
    recording.sequences_truncated += cut


def _larger(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _recorded(
    run: Callable[[dict[str, str]], Any],
    sandbox: Sandbox,
    targets: list[TargetRef],
    sampling: Sampling,
    notes: list[str],
) -> list[tuple[TargetRef, _Entry]]:
    """Run once with the recorder on; merge what each Python process it started recorded."""
    keys = {f"{ref.module}:{ref.qualname}": ref for ref in targets}
    merged: dict[TargetRef, _Entry] = {}
    if not is_real_directory(sandbox.tmp):  # an earlier run there made it a link: not ours
        notes.append("the sandbox's temporary directory was replaced: nothing recorded")
        return []
    out = Path(tempfile.mkdtemp(prefix="evolver-rec-", dir=sandbox.tmp))
    try:
        spec = {
            "out_dir": str(out),
            "targets": list(keys),
            "max_calls": sampling.max_calls,
            "max_sequences": sampling.max_sequences,
            "max_steps": sampling.max_steps,
            "max_bytes": MAX_BLOB_BYTES,
            "max_total_bytes": MAX_RECORDED_BYTES,
        }
        spec_file = out / "spec.json"
        write_new(spec_file, json.dumps(spec).encode())
        run({"EVOLVER_RECORD": str(spec_file)})
        for dump in _dumps(out, notes):
            try:
                entries = _read_dump(dump, keys, sampling)
            except (UntrustedDataError, _MalformedDump) as error:
                notes.append(f"ignored the recorder's dump {dump.name}: {scrub(str(error), 200)}")
                continue
            for ref, entry in entries.items():
                into = merged.setdefault(ref, _Entry())
                fresh = [call for call in entry.calls if call not in into.calls]
                into.calls.extend(fresh[: sampling.max_calls - len(into.calls)])
                into.add_sequences(entry, sampling.max_sequences)
                into.tests.update(entry.tests)
                into.skipped += entry.skipped
                into.largest = _larger(into.largest, entry.largest)
    finally:
        shutil.rmtree(out, ignore_errors=True)  # never follows a link the run left in its place
    return list(merged.items())


def _dumps(out: Path, notes: list[str]) -> list[Path]:
    """The dump files in ``out``, if it is still the folder we made (the run could replace it)."""
    dumps = process_dumps(out)
    if dumps is None:
        notes.append("the recorder's folder was replaced while the project ran: nothing recorded")
        return []
    others = len(dumps.others) - ("spec.json" in dumps.others)
    if others:
        notes.append(
            f"ignored {plural(others, 'file')} in the recorder's folder that it does not write"
        )
    if dumps.left_out:
        notes.append(f"read the recorder's dumps of {len(dumps.files)} processes of {dumps.found}")
    return dumps.files


def _read_dump(
    path: Path, keys: dict[str, TargetRef], sampling: Sampling
) -> dict[TargetRef, _Entry]:
    """The entries of one dump for our targets (others are not ours to read)."""
    data = read_json(path, MAX_DUMP_BYTES)
    if type(data) is not dict or set(data) != {"targets"} or type(data["targets"]) is not dict:
        raise _MalformedDump('not {"targets": {...}}')
    return {
        keys[key]: _entry(value, sampling.max_calls, sampling.max_sequences)
        for key, value in data["targets"].items()
        if key in keys
    }


def _entry(value: Any, max_calls: int, max_sequences: int = Sampling.max_sequences) -> _Entry:
    if type(value) is not dict or not set(value) <= _ENTRY_KEYS:
        raise _MalformedDump("an entry has keys the recorder does not write")
    calls, tests = value.get("calls"), value.get("tests")
    if type(calls) is not list or len(calls) > max_calls:
        raise _MalformedDump(f"calls are not a list of at most {max_calls}")
    if type(tests) is not list or len(tests) > MAX_TESTS:
        raise _MalformedDump(f"tests are not a list of at most {MAX_TESTS}")
    for name in ("seen", "skipped", "objects"):
        count = value.get(name, 0)
        if type(count) is not int or count < 0:
            raise _MalformedDump(f"{name} is not a count")
    largest = value.get("largest")
    if largest is not None and (type(largest) is not int or not 0 <= largest <= MAX_SIZE):
        raise _MalformedDump(f"largest is not a size of at most {MAX_SIZE}")
    if any(type(test) is not str for test in tests):
        raise _MalformedDump("a test id is not text")
    try:
        blobs = [decode_blob(call) for call in calls]
    except ValueError as error:
        raise _MalformedDump(str(error)) from None
    usable = {test for test in tests if _usable_test_id(test)}
    sequences, truncated = _sequences(value, max_sequences)
    return _Entry(blobs, usable, value.get("skipped", 0), largest, sequences, truncated)


def _sequences(value: dict[str, Any], most: int) -> tuple[list[bytes], list[bool]]:
    """An entry's sequences (opaque blobs) and whether each was truncated; none in a dump of
    a function target, or of a recorder from before sequences."""
    sequences, truncated = value.get("sequences", []), value.get("sequences_truncated", [])
    if type(sequences) is not list or len(sequences) > most:
        raise _MalformedDump(f"sequences are not a list of at most {most}")
    if type(truncated) is not list or len(truncated) != len(sequences):
        raise _MalformedDump("sequences_truncated is not a list as long as the sequences")
    if any(type(flag) is not bool for flag in truncated):
        raise _MalformedDump("sequences_truncated holds something other than booleans")
    try:
        return [decode_blob(blob) for blob in sequences], truncated
    except ValueError as error:
        raise _MalformedDump(f"a sequence: {error}") from None


def _usable_test_id(test: str) -> bool:
    """A node id we can pass to pytest and show: well formed, short, nothing secret-looking
    (the process that wrote it could have read a secret; an id is shown as it is)."""
    return (
        len(test) <= MAX_TEST_ID
        and _TEST_ID.fullmatch(test) is not None
        and scrub(test, MAX_TEST_ID + 1) == test
    )

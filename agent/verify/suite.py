"""Judging a test run from the records of the trusted pytest plugin, never from an exit code.

A pytest process runs candidate code, so its exit code, its output and the files it leaves can
all be forged: an ``atexit`` hook that calls ``os._exit(0)``, a signal, a deleted or rewritten
results file. The plugin (``agent/_harness/evolver_results.py``) writes one HMAC-chained
record per event as it happens; :func:`parse_results` accepts only a complete, consistent
chain, and :func:`judge` passes a run only if the tests it ran are exactly the ones the
baseline ran, every one passed (or was skipped on HEAD too), nothing failed to collect, pytest
reached its end, and the process exited 0 with the status pytest itself decided on.

A test command that is not pytest has no plugin: its verdict is its exit code, and the
judgement says so (``per_test`` is False).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from agent.verify.untrusted import scrub

if TYPE_CHECKING:
    from agent.project.runner import TestRun

PHASES = ("setup", "call", "teardown")
# pytest's report of a collector that failed: a section "___ ERROR collecting tests/x.py ___"
# whose first "E   " line is the error, or a short summary "ERROR tests/x.py - ImportError: ...".
_COLLECTION_SECTION = re.compile(
    r"^_+ ERROR collecting (\S+) _+$(?:(?!^[_=]{3,}).)*?^E +(\S.*)$", re.MULTILINE | re.DOTALL
)
_COLLECTION_SUMMARY = re.compile(r"^ERROR (\S+) - (.+)$", re.MULTILINE)
CAUSE_CHARS = 300
OUTCOMES = ("passed", "failed", "skipped")
SHOWN = 5


class MalformedResults(Exception):
    """The results file is not a chain of records the plugin could have written."""


@dataclass(frozen=True)
class Phase:
    when: str
    outcome: str
    xfail: bool = False
    message: str = ""


@dataclass(frozen=True)
class SuiteRecord:
    """What the plugin wrote for one pytest run, checked for consistency."""

    collected: tuple[str, ...] | None  # None: collection never finished
    phases: Mapping[str, tuple[Phase, ...]]  # the reported phases of each test, in order
    collection_errors: Mapping[str, str]  # module (or other collector) -> message
    collection_skips: tuple[str, ...]
    finished: bool  # the end record is there: pytest reached the end of its session
    exit_status: int | None  # what pytest decided, from the end record
    replaced: tuple[str, ...] = ()  # pytest's own reporting code that was swapped
    hooks: tuple[str, ...] = ()  # every pytest hook implementation registered at the end

    def outcome(self, node_id: str) -> str | None:
        """``passed``, ``failed`` or ``skipped`` once the test's teardown is reported; an error
        in setup or teardown counts as failed, an expected failure as skipped; else None."""
        phases = self.phases.get(node_id, ())
        if not phases or phases[-1].when != "teardown":
            return None
        if any(p.outcome == "failed" for p in phases):
            return "failed"
        if any(p.outcome == "skipped" for p in phases):
            return "skipped"
        return "passed"

    def outcomes(self) -> dict[str, str]:
        """Each finished test's outcome, and each collection error as a failure of its node."""
        done = {t: o for t in self.phases if (o := self.outcome(t)) is not None}
        return {**done, **dict.fromkeys(self.collection_errors, "failed")}

    def failures(self) -> dict[str, str]:
        """Failed tests (and collectors) with the message of their first failing phase."""
        found = dict(self.collection_errors)
        for node_id, phases in self.phases.items():
            failed = [p for p in phases if p.outcome == "failed"]
            if failed:
                found[node_id] = failed[0].message
        return found


def parse_results(data: bytes, key: bytes) -> SuiteRecord:
    """The record of a run from the plugin's file; raises :class:`MalformedResults` with the
    first inconsistency: a broken line or MAC chain, a sequence gap, a phase out of order, a
    test that was never collected, or an end whose counts differ from what came before."""
    if data and not data.endswith(b"\n"):
        raise MalformedResults("the last record is cut off")
    lines = data.split(b"\n")[:-1] if data else []
    if not lines:
        raise MalformedResults("it is empty: the plugin never started")
    builder = _Builder()
    mac = ""
    for number, line in enumerate(lines):
        record, mac = _checked(line, number, mac, key)
        if builder.end is not None:
            raise MalformedResults(f"record {number} comes after the end")
        builder.add(record, number)
    return builder.build()


def _checked(line: bytes, number: int, previous: str, key: bytes) -> tuple[dict[str, Any], str]:
    given, _, body = line.partition(b" ")
    expected = hmac.new(key, previous.encode("ascii") + b"\n" + body, sha256).hexdigest()[:32]
    if not hmac.compare_digest(given, expected.encode("ascii")):
        raise MalformedResults(f"record {number} does not carry the plugin's signature")
    try:
        record = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedResults(f"record {number} is not JSON") from None
    if not isinstance(record, dict) or record.get("seq") != number:
        raise MalformedResults(f"record {number} is out of sequence")
    return record, expected


def _text(record: Mapping[str, Any], name: str, number: int) -> str:
    value = record.get(name, "")
    if not isinstance(value, str):
        raise MalformedResults(f"record {number}: {name} is not text")
    return value


def _count(record: Mapping[str, Any], name: str, number: int) -> int:
    value = record.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedResults(f"record {number}: {name} is not a number")
    return value


def _texts(record: Mapping[str, Any], name: str, number: int) -> tuple[str, ...]:
    value = record.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedResults(f"record {number}: {name} is not a list of text")
    return tuple(value)


@dataclass
class _Builder:
    """Replays the records in order, refusing any the plugin would not have written."""

    started: bool = False
    collected: tuple[str, ...] | None = None
    phases: dict[str, list[Phase]] = field(default_factory=dict)
    collection_errors: dict[str, str] = field(default_factory=dict)
    collection_skips: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"collect": 0, "report": 0})
    end: dict[str, Any] | None = None
    replaced: tuple[str, ...] = ()
    hooks: tuple[str, ...] = ()

    def add(self, record: dict[str, Any], number: int) -> None:
        kind = record.get("kind")
        if (number == 0) != (kind == "start"):
            raise MalformedResults(f"record {number}: the first record must be the only start")
        if kind == "start":
            return
        if kind == "collect":
            self._collect(record, number)
        elif kind == "collected":
            if self.collected is not None:
                raise MalformedResults(f"record {number}: a second list of collected tests")
            self.collected = _texts(record, "ids", number)
            self.phases = {node_id: [] for node_id in self.collected}
        elif kind == "report":
            self._report(record, number)
        elif kind == "end":
            self._end(record, number)
        else:
            raise MalformedResults(f"record {number}: unknown kind {str(kind)[:40]!r}")

    def _collect(self, record: dict[str, Any], number: int) -> None:
        node_id, outcome = _text(record, "node", number), record.get("outcome")
        if outcome == "failed":
            self.collection_errors[node_id] = _text(record, "message", number)
        elif outcome == "skipped":
            self.collection_skips.append(node_id)
        else:
            raise MalformedResults(f"record {number}: a collection outcome of {outcome!r}")
        self.counts["collect"] += 1

    def _report(self, record: dict[str, Any], number: int) -> None:
        if self.collected is None:
            raise MalformedResults(f"record {number}: a test reported before collection ended")
        node_id = _text(record, "node", number)
        when, outcome = record.get("when"), record.get("outcome")
        if node_id not in self.phases:
            raise MalformedResults(f"record {number}: {node_id[:200]} was not collected")
        if when not in PHASES or outcome not in OUTCOMES:
            raise MalformedResults(f"record {number}: a {when!r} phase that {outcome!r}")
        done = self.phases[node_id]
        if when != _next_phase(done):
            raise MalformedResults(f"record {number}: {node_id[:200]}: {when} out of order")
        xfail = record.get("xfail", False)
        if not isinstance(xfail, bool):
            raise MalformedResults(f"record {number}: xfail is not true or false")
        done.append(Phase(str(when), str(outcome), xfail, _text(record, "message", number)))
        self.replaced = tuple(dict.fromkeys([*self.replaced, *_texts(record, "replaced", number)]))
        self.counts["report"] += 1

    def _end(self, record: dict[str, Any], number: int) -> None:
        for kind, seen in self.counts.items():
            if _count(record, kind, number) != seen:
                raise MalformedResults(
                    f"the end counts {record[kind]} {kind} records where {seen} came before it"
                )
        _count(record, "exitstatus", number)
        self.hooks = _texts(record, "hooks", number)
        self.replaced = tuple(dict.fromkeys([*self.replaced, *_texts(record, "replaced", number)]))
        self.end = record

    def build(self) -> SuiteRecord:
        return SuiteRecord(
            collected=self.collected,
            phases={node_id: tuple(done) for node_id, done in self.phases.items()},
            collection_errors=dict(self.collection_errors),
            collection_skips=tuple(self.collection_skips),
            finished=self.end is not None,
            exit_status=None if self.end is None else int(self.end["exitstatus"]),
            replaced=self.replaced,
            hooks=self.hooks,
        )


def _next_phase(done: Sequence[Phase]) -> str | None:
    """The phase pytest reports next for a test: setup; call only after a passed setup;
    then teardown; nothing after teardown."""
    if not done:
        return "setup"
    last = done[-1]
    if last.when == "setup":
        return "call" if last.outcome == "passed" else "teardown"
    return "teardown" if last.when == "call" else None


@dataclass(frozen=True)
class SuiteBaseline:
    """What the tests did on HEAD, to judge candidates against."""

    per_test: bool  # False: not pytest, so the exit code is all there is
    collected: tuple[str, ...] = ()  # every test the whole suite collected
    outcomes: Mapping[str, str] = field(default_factory=dict)  # passed or skipped, by node id
    flaky: tuple[str, ...] = ()  # judge nothing (and pytest deselects them by prefix)
    replaced: tuple[str, ...] = ()  # pytest internals the project's own tests swap
    hooks: tuple[str, ...] = ()  # the pytest hook implementations of the project and plugins

    def expected(self, select: Sequence[str] | None, deselect: Sequence[str]) -> tuple[str, ...]:
        """The tests a run of ``select`` (None: the whole suite) without ``deselect`` collects,
        as pytest chooses them: a selected node takes what is inside it, ``--deselect`` is a
        prefix."""
        left_out = tuple(deselect)
        return tuple(
            t
            for t in self.collected
            if (select is None or inside_any(t, select))
            and not (left_out and t.startswith(left_out))
        )


def inside_any(node_id: str, nodes: Iterable[str]) -> bool:
    """Whether ``node_id`` is one of ``nodes`` or inside one (a module, a class, or the
    parametrized cases of a function)."""
    return any(node_id == node or node_id.startswith((node + "::", node + "[")) for node in nodes)


@dataclass(frozen=True)
class Judgement:
    passed: bool
    reason: str  # why not, or what passed; short, scrubbed
    per_test: bool  # False: judged by the exit code alone (the command is not pytest)
    failed: tuple[str, ...] = ()  # the tests (or collectors) that failed, when known


def judge(run: TestRun, baseline: SuiteBaseline | None = None) -> Judgement:
    """Whether ``run`` passed: from its records, against ``baseline`` when given (without one,
    as the baseline itself is judged: consistent, complete, nothing failed)."""
    if run.timed_out:
        return Judgement(False, f"tests timed out after {run.duration:.0f}s", run.per_test)
    if not run.per_test:
        if run.returncode == 0:
            return Judgement(True, "exit code 0 (exit code only, not per test)", False)
        return Judgement(False, f"{run.describe_exit()} (exit code only, not per test)", False)
    if run.record is None:
        problem = run.record_problem or "no results"
        return Judgement(False, f"no trusted test results: {problem}; {run.describe_exit()}", True)
    why, failed = _faults(run, run.record, baseline)
    if why is not None:
        return Judgement(False, scrub(why, 400), True, failed)
    count = len(run.record.collected or ())
    return Judgement(True, f"{count} tests ran and passed", True)


def _faults(
    run: TestRun, record: SuiteRecord, baseline: SuiteBaseline | None
) -> tuple[str | None, tuple[str, ...]]:
    """The first reason ``record`` does not pass, in the order a person would look."""
    if record.collection_errors:
        errors = list(record.collection_errors.items())
        shown = "; ".join(f"{node}: {message}" for node, message in errors[:3])
        return f"collection error in {shown}{_more(errors, 3)}", tuple(n for n, _ in errors)
    if record.collected is None:
        return f"pytest never finished collecting; {run.describe_exit()}", ()
    if baseline is not None:
        expected = baseline.expected(run.select, run.deselect)
        different = _different_tests(record, expected)
        if different:
            return different, ()
    failures = record.failures()
    if failures:
        names = tuple(failures)
        first, message = next(iter(failures.items()))
        said = f" ({first}: {message})" if message else ""
        return f"failing tests: {_some(names)}{said}", names
    unfinished = [t for t in record.collected if record.outcome(t) is None]
    if not record.finished:
        ran = len(record.collected) - len(unfinished)
        where = f"; never finished: {_some(unfinished)}" if unfinished else ""
        return (
            f"pytest did not reach its end ({ran} of {len(record.collected)} tests ran"
            f"{where}); {run.describe_exit()}",
            (),
        )
    if unfinished:
        return f"{len(unfinished)} collected tests never ran: {_some(unfinished)}", ()
    tolerated = baseline.replaced if baseline is not None else ()
    replaced = [name for name in record.replaced if name not in tolerated]
    if replaced:
        return (
            f"pytest's own reporting code was replaced while the tests ran: {_some(replaced)}",
            (),
        )
    if baseline is not None and baseline.hooks:
        added = [hook for hook in record.hooks if hook not in baseline.hooks]
        if added:
            return f"adds pytest hooks the baseline did not have: {_some(added)}", ()
    if baseline is not None:
        skipped = [
            t
            for t in record.collected
            if record.outcome(t) == "skipped" and baseline.outcomes.get(t) == "passed"
        ]
        if skipped:
            return f"skipped tests that pass on HEAD: {_some(skipped)}", ()
    if record.exit_status != 0 or run.returncode != 0:
        return (
            f"pytest ended with exit status {record.exit_status} and the process with "
            f"{run.describe_exit()}; both must be 0",
            (),
        )
    return None, ()


def collection_error(
    record: SuiteRecord | None, output: str, among: Sequence[str] = ()
) -> str | None:
    """``"ERROR collecting tests/test_x.py: ImportError: ..."``: the first module (of ``among``,
    when given) that failed to collect, with the first line of why; from the plugin's record,
    else from pytest's short summary in ``output``; ``None`` when nothing failed to collect.
    Scrubbed and short: the text comes from the project's (or a candidate's) code."""
    found: dict[str, str] = dict(record.collection_errors) if record is not None else {}
    for match in [*_COLLECTION_SECTION.finditer(output), *_COLLECTION_SUMMARY.finditer(output)]:
        node, said = match.groups()
        # Without a record, a module that errors is a collection error (a test's is in setup).
        if node in found if record is not None else "::" not in node:
            found[node] = found.get(node) or said
    wanted = [node for node in found if not among or node in among]
    if not wanted:
        return None
    node = wanted[0]
    cause = found[node].strip().splitlines()[:1]
    said = f": {cause[0]}" if cause else ""
    return scrub(f"ERROR collecting {node}{said}", CAUSE_CHARS)


def _different_tests(record: SuiteRecord, expected: Sequence[str]) -> str | None:
    collected = record.collected or ()
    if sorted(collected) == sorted(expected):
        return None
    missing = [t for t in expected if t not in set(collected)]
    extra = [t for t in collected if t not in set(expected)]
    parts = [f"collected {len(collected)} tests where the baseline collected {len(expected)}"]
    if missing:
        parts.append(f"missing {_some(missing)}")
    if extra:
        parts.append(f"not in the baseline {_some(extra)}")
    if not missing and not extra:
        parts.append("some more than once")
    if record.collection_skips:
        parts.append(f"skipped at collection: {_some(list(record.collection_skips))}")
    return ": ".join(parts[:1]) + (": " + "; ".join(parts[1:]) if parts[1:] else "")


def _some(items: Sequence[str]) -> str:
    return ", ".join(items[:SHOWN]) + _more(items, SHOWN)


def _more(items: Sequence[Any], shown: int) -> str:
    return f" and {len(items) - shown} more" if len(items) > shown else ""

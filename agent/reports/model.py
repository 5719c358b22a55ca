"""The run's JSON report (format version 1) as typed data, for its writer and every reader.

``Report.from_run`` makes it from a finished run; ``to_json`` is what ``evolver run --json``
writes and the history stores, key for key and in the same order as ever (scripts rely on it);
``Report.from_json`` reads one back and checks every value's type, naming the one that is wrong
(``candidates[2].speedup: expected a number, got 'fast'``).

Format 1 grew: keys were added to it over time (``run_id``, ``hotspots``, ``strategy``…), and
reports are also made by hand and by tests. So only ``version`` is required: any other key a
report lacks reads as its default (``None``, ``0``, empty) and is remembered as absent, so that
``Report.from_json(x).to_json() == x`` for any report this format ever had. Keys this reader
does not know (a newer writer's additions to format 1) are left out.

Over 400 lines: every key of the format, with how it is written and how it is checked, is one
idea, and it is kept in one place.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar

from agent.domain import (
    NO_CHANGE,
    Confirmation,
    FunctionProfile,
    MemoryUse,
    Outcome,
    RunReport,
    Target,
    TargetRef,
    confidence_text,
)

FORMAT_VERSION = 1
VERDICTS = ("accepted", "rejected")
END_TO_END = "end to end"  # a timing method: the whole workload's, not the target's calls
DEFAULT_CONFIDENCE = 0.95  # the intervals' level in reports from before it was recorded

T = TypeVar("T")
Check = Callable[[Any, str], T]


class ReportError(ValueError):
    """A JSON report this Evolver cannot read; the message says which value, and why."""


# ---------------------------------------------------------------------------------------------
# Checks of one JSON value; ``where`` names it in an error.


def _fail(where: str, expected: str, value: Any) -> NoReturn:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ReportError(f"{where or 'the report'}: expected {expected}, got {shown}")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        _fail(where, "a string", value)
    return value


def _number(value: Any, where: str) -> float:
    # An int stays an int, so that what was read is written back digit for digit.
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(where, "a number", value)
    return value


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, "an integer", value)
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        _fail(where, "true or false", value)
    return value


def _optional(check: Check[T]) -> Check[T | None]:
    def read(value: Any, where: str) -> T | None:
        return None if value is None else check(value, where)

    return read


def _each(check: Check[T]) -> Check[tuple[T, ...]]:
    def read(value: Any, where: str) -> tuple[T, ...]:
        if not isinstance(value, list):
            _fail(where, "a list", value)
        return tuple(check(item, f"{where}[{i}]") for i, item in enumerate(value))

    return read


def _pair(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        _fail(where, "a list of two numbers", value)
    return _number(value[0], f"{where}[0]"), _number(value[1], f"{where}[1]")


def _json_object(value: Any, where: str) -> dict[str, Any]:
    """An object whose values are any JSON (the model's bill, a candidate's provenance)."""
    if not isinstance(value, dict):
        _fail(where, "an object", value)
    return dict(value)


def _map_of(check: Check[T]) -> Check[dict[str, T]]:
    def read(value: Any, where: str) -> dict[str, T]:
        return {k: check(v, f"{where}.{k}") for k, v in _json_object(value, where).items()}

    return read


_evidence = _optional(_map_of(_text))  # check → sentence


def _verdict(value: Any, where: str) -> str:
    if value not in VERDICTS:
        _fail(where, " or ".join(repr(v) for v in VERDICTS), value)
    return str(value)


def _reads(check: Check[Any]) -> dict[str, Any]:
    """A field's metadata: the check of its JSON value."""
    return {"check": check}


def _key(check: Check[Any], default: Any = None) -> Any:
    """A field of a record: the check of its JSON value, and its value when the key is absent.
    (Fields of a mutable or record type are ``field(..., metadata=_reads(check))``.)"""
    return field(default=default, metadata=_reads(check))


R = TypeVar("R", bound="_Record")


@dataclass(frozen=True)
class _Record:
    """A JSON object of the report: its keys are the dataclass's fields, in their order, each
    read with the check in its metadata. ``absent`` holds the keys that the object it was read
    from lacked, which ``to_json`` leaves out again."""

    WHOLE: ClassVar[bool] = False  # True: always written whole, so no key may be absent
    absent: frozenset[str] = field(default=frozenset(), repr=False, kw_only=True)

    @classmethod
    def from_json(cls: type[R], data: Any, where: str = "") -> R:
        if not isinstance(data, dict):
            _fail(where, "an object", data)
        values: dict[str, Any] = {}
        absent = set()
        for key in _keys(cls):
            if key.name in data:
                place = f"{where}.{key.name}" if where else key.name
                values[key.name] = key.metadata["check"](data[key.name], place)
            elif cls.WHOLE:
                _fail(where, f"an object with {', '.join(k.name for k in _keys(cls))}", data)
            else:
                absent.add(key.name)
        return cls(**values, absent=frozenset(absent))

    def to_json(self) -> dict[str, Any]:
        return {
            key.name: _as_json(getattr(self, key.name))
            for key in _keys(type(self))
            if key.name not in self.absent
        }


def _keys(cls: type[_Record]) -> list[Any]:
    return [key for key in fields(cls) if key.name != "absent"]


def _as_json(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_json()
    if isinstance(value, tuple):
        return [_as_json(item) for item in value]
    return dict(value) if isinstance(value, dict) else value


# ---------------------------------------------------------------------------------------------
# The parts of a report


@dataclass(frozen=True)
class ReportMemoryProfile(_Record):
    """Where the workload's memory went, for one function (``--objective memory`` or both):
    bytes, see ``agent.domain.MemoryProfile``."""

    WHOLE = True

    calls: int = _key(_integer, 0)
    peak: int = _key(_integer, 0)
    allocated: int = _key(_integer, 0)
    alive: int = _key(_integer, 0)

    @classmethod
    def of(cls, profile: FunctionProfile | None) -> ReportMemoryProfile | None:
        memory = profile.memory if profile is not None else None
        if memory is None:
            return None
        return cls(memory.calls, memory.peak, memory.allocated, memory.alive)


_memory_profile = _optional(ReportMemoryProfile.from_json)


def _absent_unless(**values: object) -> frozenset[str]:
    """The keys among ``values`` that have none: left out of a report, as they were before they
    existed (a time-only run's report is what it always was)."""
    return frozenset(name for name, value in values.items() if value is None)


@dataclass(frozen=True)
class ReportTarget(_Record):
    """A target the run tried, with its profile (none: not in the profile) and metrics."""

    target: str = _key(_text, "")
    share: float | None = _key(_number)  # 0.0 when not profiled
    complexity: int | None = _key(_integer)
    own_time: float | None = _key(_optional(_number))
    cum_time: float | None = _key(_optional(_number))
    calls: int | None = _key(_optional(_integer))
    halstead_effort: float | None = _key(_number)
    maintainability: float | None = _key(_number)
    line: int | None = _key(_integer)
    memory: ReportMemoryProfile | None = field(default=None, metadata=_reads(_memory_profile))

    @classmethod
    def from_target(cls, target: Target) -> ReportTarget:
        profile, metrics = target.profile, target.metrics
        memory = ReportMemoryProfile.of(profile)
        return cls(
            target=str(target.ref),
            share=round(profile.share, 6) if profile else 0.0,
            complexity=metrics.complexity,
            own_time=round(profile.own_time, 6) if profile else None,
            cum_time=round(profile.cum_time, 6) if profile else None,
            calls=profile.calls if profile else None,
            halstead_effort=metrics.halstead_effort,
            maintainability=metrics.maintainability,
            line=target.lineno,
            memory=memory,
            absent=_absent_unless(memory=memory),
        )


@dataclass(frozen=True)
class ReportHotspot(_Record):
    """A function of the profile, hottest first (whether or not it was tried)."""

    target: str = _key(_text, "")
    share: float | None = _key(_number)
    own_time: float | None = _key(_number)
    cum_time: float | None = _key(_number)
    calls: int | None = _key(_integer)
    memory: ReportMemoryProfile | None = field(default=None, metadata=_reads(_memory_profile))

    @classmethod
    def from_profile(cls, ref: TargetRef, profile: FunctionProfile) -> ReportHotspot:
        memory = ReportMemoryProfile.of(profile)
        return cls(
            target=str(ref),
            share=round(profile.share, 6),
            own_time=round(profile.own_time, 6),
            cum_time=round(profile.cum_time, 6),
            calls=profile.calls,
            memory=memory,
            absent=_absent_unless(memory=memory),
        )


@dataclass(frozen=True)
class ReportRisk(_Record):
    WHOLE = True

    level: str = _key(_text, "")  # one of agent.domain.RISK_LEVELS in reports Evolver wrote
    reasons: tuple[str, ...] = _key(_each(_text), ())


@dataclass(frozen=True)
class ReportProbe(_Record):
    """A probe on which the change differs from its original: the call, and how."""

    WHOLE = True

    call: str = _key(_text, "")
    difference: str = _key(_text, "")


@dataclass(frozen=True)
class ReportMemory(_Record):
    """Peak memory of the original against the candidate on the recorded calls (bytes per pass
    over them, medians of each side's processes): ``ratio`` original / candidate, with its
    interval at ``confidence``; ``retained`` what the calls left allocated, and ``rss`` the
    processes' peak as the kernel counted it, original then candidate."""

    WHOLE = True

    original: int = _key(_integer, 0)
    candidate: int = _key(_integer, 0)
    ratio: float = _key(_number, 0.0)
    ci: tuple[float, float] = _key(_pair, (0.0, 0.0))
    confidence: float = _key(_number, 0.0)
    processes: int = _key(_integer, 0)
    retained: tuple[float, float] = _key(_pair, (0.0, 0.0))
    rss: tuple[float, float] = _key(_pair, (0.0, 0.0))

    @classmethod
    def of(cls, use: MemoryUse | None) -> ReportMemory | None:
        if use is None:
            return None
        return cls(
            use.original, use.candidate, round(use.ratio, 4),
            (round(use.ci[0], 4), round(use.ci[1], 4)), use.confidence, use.processes,
            use.retained, use.rss,
        )  # fmt: skip

    @property
    def saving(self) -> float:
        """The share of the original's peak saved (negative: it took more)."""
        return 1 - 1 / self.ratio if self.ratio > 0 else 0.0


@dataclass(frozen=True)
class ReportCandidate(_Record):
    """What became of one candidate: its verdict, timing, evidence, risk and patch."""

    id: str = _key(_text, "")
    target: str = _key(_text, "")
    provider: str = _key(_text, "")
    summary: str = _key(_text, "")
    # The optimization strategy it follows ("caching"; rules joined: "builtins+caching").
    strategy: str | None = _key(_optional(_text))
    verdict: str = _key(_verdict, "rejected")  # one of VERDICTS
    stage: str = _key(_text, "")
    reason: str = _key(_text, "")
    speedup: float | None = _key(_optional(_number))
    ci: tuple[float, float] | None = _key(_optional(_pair))
    confidence: float | None = _key(_optional(_number))  # the interval's level
    first_call_speedup: float | None = _key(_optional(_number))
    timing_method: str | None = _key(_optional(_text))  # "per call" or END_TO_END
    not_compared: tuple[str, ...] = _key(_each(_text), ())  # stages with nothing to compare
    committed: bool = _key(_flag, False)
    commit: str | None = _key(_optional(_text))
    provenance: dict[str, Any] = field(default_factory=dict, metadata=_reads(_json_object))
    evidence: dict[str, str] | None = field(
        default=None, metadata=_reads(_evidence)
    )  # check → sentence
    probes: tuple[ReportProbe, ...] = _key(_each(ReportProbe.from_json), ())
    risk: ReportRisk | None = field(default=None, metadata=_reads(_optional(ReportRisk.from_json)))
    patch: str | None = _key(_optional(_text))
    # The definitions it changes besides its target (its class's members, helpers), and then
    # each definition it changes, the target first, with its own diff.
    changed: tuple[str, ...] = _key(_each(_text), ())
    changes: dict[str, str] = field(default_factory=dict, metadata=_reads(_map_of(_text)))
    # Measured with --objective memory or both; absent otherwise.
    memory: ReportMemory | None = field(
        default=None, metadata=_reads(_optional(ReportMemory.from_json))
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome) -> ReportCandidate:
        candidate, verdict, timing = outcome.candidate, outcome.verdict, outcome.verdict.timing
        risk = outcome.risk
        return cls(
            id=candidate.id,
            target=str(candidate.target),
            provider=candidate.provider,
            summary=candidate.summary,
            strategy=candidate.strategy,
            verdict="accepted" if verdict.accepted else "rejected",
            stage=verdict.stage,
            reason=verdict.reason,
            speedup=round(timing.speedup, 4) if timing else None,
            ci=(round(timing.ci[0], 4), round(timing.ci[1], 4)) if timing else None,
            confidence=timing.confidence if timing else None,
            first_call_speedup=round(timing.first_call, 4) if timing else None,
            timing_method=timing.method if timing else None,
            not_compared=tuple(verdict.not_compared),
            committed=outcome.committed,
            commit=outcome.commit,
            # The model's reply is in the history; the report keeps to where it came from.
            provenance={k: v for k, v in candidate.provenance.items() if k != "reply"},
            evidence=dict(verdict.evidence) or None,
            probes=tuple(ReportProbe(p.call, p.difference) for p in verdict.probe_differences),
            risk=None if risk is None else ReportRisk(risk.level, tuple(risk.reasons)),
            patch=outcome.patch,
            changed=tuple(verdict.changed),
            changes=dict(outcome.changes),
            memory=ReportMemory.of(verdict.memory),
            absent=_absent_unless(
                memory=verdict.memory,
                changed=verdict.changed or None,
                changes=outcome.changes or None,
            ),
        )

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"

    @property
    def end_to_end(self) -> bool:
        """Judged end to end: its speedup is the whole workload's, and its calls were not
        compared one by one."""
        return self.timing_method == END_TO_END or "equivalence" in self.not_compared

    @property
    def strategies(self) -> tuple[str, ...]:
        """``"builtins+data-structure"`` as its parts; none when it was not recorded."""
        label = self.strategy or ""
        return tuple(part for part in (p.strip() for p in label.split("+")) if part)

    @property
    def level(self) -> float | None:
        """Its interval's level (0.995), when the report recorded it."""
        confidence = self.confidence
        return confidence if confidence is not None and 0 < confidence < 1 else None


def interval_level(candidates: Iterable[ReportCandidate]) -> str:
    """The level of the candidates' intervals (``"99.5%"``): the lowest, if they differ (each
    is at least that); reports from before it was recorded had 95%."""
    levels = [level for c in candidates if (level := c.level) is not None]
    return confidence_text(min(levels, default=DEFAULT_CONFIDENCE))


@dataclass(frozen=True)
class ReportConfirmation(_Record):
    """The whole result timed against the base on the repository's own workload."""

    what: str = _key(_text, "")
    method: str = _key(_text, "")  # "benchmarks" or "wall time"
    runs: int | None = _key(_integer)
    base_seconds: float | None = _key(_number)
    result_seconds: float | None = _key(_number)
    wall_speedup: float | None = _key(_number)
    speedup: float | None = _key(_number)
    benchmarks: dict[str, float] = field(
        default_factory=dict, metadata=_reads(_map_of(_number))
    )  # name → speedup
    change: str = _key(
        _text, ""
    )  # what the runs show (record.confirm.change); older reports lack it

    @property
    def verdict(self) -> str:
        """``change``; a report from before it was kept named it by the medians' ratio alone."""
        if self.change:
            return self.change
        speedup = self.speedup
        if speedup is None or not math.isfinite(speedup) or speedup <= 0:
            return "unknown"
        return (
            "about the same"
            if abs(math.log(speedup)) <= math.log1p(NO_CHANGE)
            else ("faster" if speedup > 1 else "slower")
        )

    @classmethod
    def from_confirmation(cls, confirmation: Confirmation) -> ReportConfirmation:
        return cls(
            what=confirmation.what,
            method=confirmation.method,
            runs=confirmation.runs,
            base_seconds=round(confirmation.base_seconds, 4),
            result_seconds=round(confirmation.result_seconds, 4),
            wall_speedup=round(confirmation.wall_speedup, 4),
            speedup=round(confirmation.speedup, 4),
            benchmarks={name: round(r, 4) for name, r in confirmation.benchmarks.items()},
            change=confirmation.change,
        )


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Report(_Record):
    """One run: what was profiled and tried, what became of each candidate, the whole result."""

    version: int = _key(_integer, FORMAT_VERSION)
    run_id: int | None = _key(_optional(_integer))  # in the history, when recorded
    repo: str = _key(_text, "")
    base_commit: str = _key(_text, "")
    branch: str | None = _key(_optional(_text))  # None: nothing committed
    provider: str = _key(_text, "")
    model: str | None = _key(_optional(_text))
    started: str | None = _key(_optional(_text))  # ISO 8601, UTC
    finished: str | None = _key(_optional(_text))
    hotspots: tuple[ReportHotspot, ...] = _key(_each(ReportHotspot.from_json), ())
    targets: tuple[ReportTarget, ...] = _key(_each(ReportTarget.from_json), ())
    candidates: tuple[ReportCandidate, ...] = _key(_each(ReportCandidate.from_json), ())
    accepted: int = _key(_integer, 0)
    committed: int = _key(_integer, 0)
    notes: tuple[str, ...] = _key(_each(_text), ())
    usage: dict[str, Any] = field(
        default_factory=dict, metadata=_reads(_json_object)
    )  # the model's bill (Ledger)
    flaky_tests: tuple[str, ...] = _key(_each(_text), ())
    confirmation: ReportConfirmation | None = field(
        default=None, metadata=_reads(_optional(ReportConfirmation.from_json))
    )
    sandbox: tuple[str, ...] = _key(_each(_text), ())  # the protection candidates ran under
    # "memory" or "both"; absent for "time", as before the objective could be chosen.
    objective: str | None = _key(_optional(_text))

    @classmethod
    def from_run(cls, run: RunReport) -> Report:
        confirmation = run.confirmation
        objective = None if run.objective == "time" else run.objective
        return cls(
            run_id=run.run_id,
            repo=run.repo,
            base_commit=run.base_commit,
            branch=run.branch,
            provider=run.provider,
            model=run.model,
            started=run.started,
            finished=run.finished,
            hotspots=tuple(ReportHotspot.from_profile(r, p) for r, p in run.hotspots.items()),
            targets=tuple(ReportTarget.from_target(t) for t in run.targets),
            candidates=tuple(ReportCandidate.from_outcome(o) for o in run.outcomes),
            accepted=run.accepted,
            committed=run.committed,
            notes=tuple(run.notes),
            usage=dict(run.usage),
            flaky_tests=tuple(run.flaky_tests),
            confirmation=(
                None if confirmation is None else ReportConfirmation.from_confirmation(confirmation)
            ),
            sandbox=tuple(run.sandbox),
            objective=objective,
            absent=_absent_unless(objective=objective),
        )

    @classmethod
    def from_json(cls: type[R], data: Any, where: str = "") -> R:
        """The report in ``data`` (a parsed JSON object); ReportError when it is not one of
        format 1 or a value has the wrong type."""
        if not isinstance(data, dict):
            _fail(where, "a JSON report (an object)", data)
        if "version" not in data:
            raise ReportError("not an Evolver JSON report: it has no version")
        version = data["version"]
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise ReportError(
                f"a JSON report of format version {version!r}: this Evolver reads version "
                f"{FORMAT_VERSION}"
            )
        report = super().from_json(data, where)
        assert isinstance(report, Report)
        # Absent only from hand-made reports: counted as the writer counts them.
        counts = {
            "accepted": sum(c.accepted for c in report.candidates),
            "committed": sum(c.committed for c in report.candidates),
        }
        return replace(report, **{k: v for k, v in counts.items() if k in report.absent})  # type: ignore[arg-type]

    @classmethod
    def read(cls, path: Path) -> Report:
        """The report in the file at ``path``; ReportError when it holds none."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ReportError(f"{path} is not JSON: {error}") from None
        return cls.from_json(data)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @property
    def committed_candidates(self) -> tuple[ReportCandidate, ...]:
        return tuple(c for c in self.candidates if c.committed)

    @property
    def level(self) -> str:
        """The level of its speedup intervals: ``"99.5%"``."""
        return interval_level(self.candidates)

    @property
    def measures_memory(self) -> bool:
        """Whether memory was an objective of the run."""
        return self.objective in ("memory", "both")


def as_report(report: Report | Mapping[str, Any]) -> Report:
    """A reader's argument as a Report: a parsed JSON report is read (and checked)."""
    return report if isinstance(report, Report) else Report.from_json(dict(report))


# What `evolver run --json` and `evolver profile --json` write, for callers that hold a run.


def report_json(run: RunReport) -> dict[str, Any]:
    return Report.from_run(run).to_json()


def target_json(target: Target) -> dict[str, Any]:
    return ReportTarget.from_target(target).to_json()


def write_json(run: RunReport, path: Path) -> None:
    Report.from_run(run).write(path)

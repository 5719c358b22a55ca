"""A task's result as ``evolver eval`` writes it, and what it means.

A task's result is the JSON the harness writes for it (``TaskResult`` mirrors it). From it:
* a **wrong commit**: something was committed and the hidden tests failed on it (the number
  that must be 0);
* a **correct speedup**: committed, hidden tests passed, and the harness's own timing gives
  at least ``MIN_SPEEDUP`` (1.1×);
* **solved**: a correct speedup, or, for a task of kind ``none`` (no safe speedup exists),
  nothing committed;
* the **scored speedup**: the measured speedup of a commit that passed the hidden tests, else
  1.0 (nothing committed, a wrong commit, an error: nothing usable was gained); the averages
  and the share of the reference use it;
* the **share of the reference**: scored speedup / the reference solution's speedup;
  **reaching the reference** (GSO's Opt@1): a correct speedup of at least ``OPT_SHARE`` (95%)
  of the reference.

A task of kind ``memory`` is scored the same way on peak memory instead of time (its
*objective*): the harness measures the benchmark call's peak on the original against the result
(``memory_ratio``, original / result: 2.0 is half the memory) and against the reference
(``reference_memory_ratio``); it is *correct* (and solved) with a ratio of at least
``MIN_MEMORY_RATIO`` (1.1×) and the hidden tests passed, and its share of the reference and
Opt@1 are of the reference's ratio. Its speedup is still measured, for information. The result
of a task scored on time has none of the memory keys.

The reference's speedup is timed in the same run, by the same method, as the agent's result
(``reference_timing`` "measured"); when that was not done it is ``task.toml``'s stored value
("stored"), timed otherwise, and the share and Opt@1 then compare unlike timings: the
renderings mark it. A result written before the reference was timed in the run has no
``reference_timing``: its reference was the stored value, and it reads as "stored".

Each candidate carries the optimization strategy it followed (``prompts/strategies.toml``;
a rules candidate that applied several rules is labelled with their strategies joined by
"+") and whether it was committed; the summary's ``strategies`` counts them per task kind.

A task whose status is ``error`` is never solved and scores 1.0; a wrong commit still counts
as one even then.

Pure: data in, data out. ``evals/scores.py`` sums the results of a run into its scores.
(Over 400 lines: every key of a task's result, how it is read, written and checked, and what
it means, is one idea, kept in one place.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("rules", "model", "none")  # scored on time; a summary always lists them
MEMORY = "memory"  # the kind scored on peak memory; a summary lists it when a run has some
CLASS = "class"  # scored on time, its speedup beyond the target; listed when a run has some
MIN_MEMORY_RATIO = 1.1  # a correct saving: at most 1/1.1 of the original's peak memory
STATUSES = ("ok", "error")
HIDDEN = ("passed", "failed", None)
MIN_SPEEDUP = 1.1  # a correct speedup is at least this
OPT_SHARE = 0.95  # reaching the reference: at least this share of its speedup
REFERENCE_TIMINGS = ("measured", "stored", None)
UNLABELLED = "unlabelled"  # the strategy of a candidate that names none
_TOLERANCE = 1e-9  # so that 0.95 × 2.0 counts as 1.9 whatever the rounding

# Outcomes, from the most to the least important; each task has exactly one.
OUTCOMES = {
    "wrong_commit": "wrong commit",
    "error": "error",
    "correct": "correct ≥ 1.1×",
    "unchecked": "committed, not checked",
    "too_small": "committed, < 1.1×",
    "held_back": "rightly nothing",
    "nothing": "nothing committed",
}


# ---------------------------------------------------------------------------------------------
# Per-task results


def _float(value: Any, default: float) -> float:
    return default if value is None else float(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class CandidateResult:
    """One candidate the agent tried on a task, and the verdict on it."""

    summary: str = ""
    stage: str = ""
    accepted: bool = False
    reason: str = ""
    strategy: str | None = None  # "algorithm", or rules' "builtins+data-structure"
    committed: bool = False  # the one (of its round) that went into the result branch

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CandidateResult:
        strategy = data.get("strategy")
        return cls(
            summary=str(data.get("summary") or ""),
            stage=str(data.get("stage") or ""),
            accepted=bool(data.get("accepted", False)),
            reason=str(data.get("reason") or ""),
            strategy=None if strategy is None else str(strategy),
            committed=bool(data.get("committed", False)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "stage": self.stage,
            "accepted": self.accepted,
            "reason": self.reason,
            "strategy": self.strategy,
            "committed": self.committed,
        }

    @property
    def strategies(self) -> tuple[str, ...]:
        """The strategies it followed, each once: a joined label's parts, or ``UNLABELLED``."""
        parts = [part.strip() for part in (self.strategy or "").split("+")]
        named = tuple(dict.fromkeys(part for part in parts if part))
        return named or (UNLABELLED,)


def _interval(data: Mapping[str, Any], key: str) -> tuple[float, float] | None:
    interval = data.get(key)
    if interval is None:
        return None
    if isinstance(interval, (str, bytes, Mapping)) or len(interval) != 2:
        raise ValueError(f"task {data['task']!r}: {key} is not [low, high]")
    return float(interval[0]), float(interval[1])


def _reference_timing(data: Mapping[str, Any], reference: float | None) -> str | None:
    """As written; absent (a result from before the reference was timed in the run), the
    reference there was task.toml's stored value. A null one with a reference speedup (the
    run stopped before timing it) is not upgraded: ``reference_stored`` reads it so."""
    if "reference_timing" in data:
        timing = data["reference_timing"]
        return None if timing is None else str(timing)
    return None if reference is None else "stored"


@dataclass(frozen=True)
class TaskResult:
    """What the harness measured on one task (its JSON, see ``from_json``), and what it means."""

    task: str
    kind: str
    tags: tuple[str, ...] = ()
    target: str = ""
    status: str = "ok"
    error: str | None = None
    committed: bool = False
    hidden_tests: str | None = None  # "passed" | "failed" | None (nothing committed)
    hidden_failures: tuple[str, ...] = ()
    speedup: float = 1.0  # re-timed by the harness; 1.0 when nothing was committed
    speedup_interval: tuple[float, float] | None = None
    claimed_speedup: float | None = None  # what the agent reported
    reference_speedup: float | None = None  # None for kind "none"
    reference_interval: tuple[float, float] | None = None
    stored_reference_speedup: float | None = None  # task.toml's, informational
    reference_timing: str | None = None  # "measured" in this run, or "stored"
    reference_error: str | None = None  # why the reference could not be timed in the run
    # Kind "memory": the benchmark call's peak memory, original / result (2.0: half of it),
    # measured by the harness (1.0 when nothing was), what the agent reported, the reference's.
    memory_ratio: float = 1.0
    memory_interval: tuple[float, float] | None = None
    claimed_memory_ratio: float | None = None
    reference_memory_ratio: float | None = None  # measured in the run, or task.toml's
    reference_memory_interval: tuple[float, float] | None = None
    stored_reference_memory_ratio: float | None = None  # task.toml's, informational
    candidates: tuple[CandidateResult, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    wall_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in (*KINDS, CLASS, MEMORY):
            raise ValueError(
                f"task {self.task!r}: kind {self.kind!r} is not one of {(*KINDS, CLASS, MEMORY)}"
            )
        if self.status not in STATUSES:
            raise ValueError(f"task {self.task!r}: status {self.status!r} is not ok or error")
        if self.hidden_tests not in HIDDEN:
            raise ValueError(
                f"task {self.task!r}: hidden_tests {self.hidden_tests!r} is not passed, "
                "failed or null"
            )
        figures = {
            "speedup": self.speedup,
            "reference_speedup": self.reference_speedup,
            "memory_ratio": self.memory_ratio,
            "reference_memory_ratio": self.reference_memory_ratio,
        }
        for name, value in figures.items():
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"task {self.task!r}: {name} {value!r} is not positive")
        if self.reference_timing not in REFERENCE_TIMINGS:
            raise ValueError(
                f"task {self.task!r}: reference_timing {self.reference_timing!r} is not "
                "measured, stored or null"
            )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskResult:
        """Read a task's result; only ``task`` and ``kind`` are required, the rest defaults
        (nothing committed, no tokens, no cost). Unknown keys are ignored. Raises
        ``ValueError`` on a malformed result."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a task result is an object, not {type(data).__name__}")
        missing = [key for key in ("task", "kind") if key not in data]
        if missing:
            raise ValueError(f"task result {dict(data)!r} lacks {', '.join(missing)}")
        error = data.get("error")
        try:
            reference = _opt_float(data.get("reference_speedup"))
            return cls(
                task=str(data["task"]),
                kind=str(data["kind"]),
                tags=tuple(str(tag) for tag in data.get("tags") or ()),
                target=str(data.get("target") or ""),
                status=str(data.get("status") or ("error" if error else "ok")),
                error=_opt_str(error),
                committed=bool(data.get("committed", False)),
                hidden_tests=data.get("hidden_tests"),
                hidden_failures=tuple(str(node) for node in data.get("hidden_failures") or ()),
                speedup=_float(data.get("speedup"), 1.0),
                speedup_interval=_interval(data, "speedup_interval"),
                claimed_speedup=_opt_float(data.get("claimed_speedup")),
                reference_speedup=reference,
                reference_interval=_interval(data, "reference_interval"),
                stored_reference_speedup=_opt_float(data.get("stored_reference_speedup")),
                reference_timing=_reference_timing(data, reference),
                reference_error=_opt_str(data.get("reference_error")),
                memory_ratio=_float(data.get("memory_ratio"), 1.0),
                memory_interval=_interval(data, "memory_interval"),
                claimed_memory_ratio=_opt_float(data.get("claimed_memory_ratio")),
                reference_memory_ratio=_opt_float(data.get("reference_memory_ratio")),
                reference_memory_interval=_interval(data, "reference_memory_interval"),
                stored_reference_memory_ratio=_opt_float(data.get("stored_reference_memory_ratio")),
                candidates=tuple(
                    CandidateResult.from_json(candidate)
                    for candidate in data.get("candidates") or ()
                ),
                input_tokens=int(data.get("input_tokens") or 0),
                output_tokens=int(data.get("output_tokens") or 0),
                cost_usd=_float(data.get("cost_usd"), 0.0),
                wall_seconds=_float(data.get("wall_seconds"), 0.0),
            )
        except (TypeError, AttributeError) as error:
            raise ValueError(f"task {data['task']!r}: malformed result ({error})") from None

    def to_json(self) -> dict[str, Any]:
        data = {
            "task": self.task,
            "kind": self.kind,
            "tags": list(self.tags),
            "target": self.target,
            "status": self.status,
            "error": self.error,
            "committed": self.committed,
            "hidden_tests": self.hidden_tests,
            "hidden_failures": list(self.hidden_failures),
            "speedup": self.speedup,
            "speedup_interval": _listed(self.speedup_interval),
            "claimed_speedup": self.claimed_speedup,
            "reference_speedup": self.reference_speedup,
            "reference_interval": _listed(self.reference_interval),
            "stored_reference_speedup": self.stored_reference_speedup,
            "reference_timing": self.reference_timing,
            "reference_error": self.reference_error,
            "candidates": [candidate.to_json() for candidate in self.candidates],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "wall_seconds": self.wall_seconds,
        }
        if self.objective == MEMORY:
            data.update(
                memory_ratio=self.memory_ratio,
                memory_interval=_listed(self.memory_interval),
                claimed_memory_ratio=self.claimed_memory_ratio,
                reference_memory_ratio=self.reference_memory_ratio,
                reference_memory_interval=_listed(self.reference_memory_interval),
                stored_reference_memory_ratio=self.stored_reference_memory_ratio,
            )
        return data

    @property
    def objective(self) -> str:
        """What the task is scored on: "time", or for kind ``memory``, "memory"."""
        return MEMORY if self.kind == MEMORY else "time"

    @property
    def gain(self) -> float:
        """What the harness measured on the objective: the speedup, or the peak memory ratio."""
        return self.memory_ratio if self.objective == MEMORY else self.speedup

    @property
    def reference_gain(self) -> float | None:
        """The reference's figure on the objective (None for kind "none")."""
        return self.reference_memory_ratio if self.objective == MEMORY else self.reference_speedup

    @property
    def usable(self) -> bool:
        """Committed and the hidden tests pass: what it gained counts."""
        return self.status == "ok" and self.committed and self.hidden_tests == "passed"

    @property
    def wrong_commit(self) -> bool:
        """Committed code that fails the hidden tests."""
        return self.committed and self.hidden_tests == "failed"

    @property
    def correct_speedup(self) -> bool:
        """Committed, the hidden tests pass, and at least ``MIN_SPEEDUP`` faster."""
        return self.usable and self.speedup >= MIN_SPEEDUP

    @property
    def correct(self) -> bool:
        """Better on its objective: a correct speedup, or for kind ``memory`` a correct saving
        (committed, the hidden tests pass, and a peak memory ratio of ``MIN_MEMORY_RATIO``)."""
        if self.objective == MEMORY:
            return self.usable and self.memory_ratio >= MIN_MEMORY_RATIO
        return self.correct_speedup

    @property
    def solved(self) -> bool:
        """Correct, or nothing committed on a task with no safe speedup."""
        if self.status != "ok":
            return False
        return self.correct or (self.kind == "none" and not self.committed)

    @property
    def scored_speedup(self) -> float:
        """The speedup that counts: the measured one if the commit passed the hidden tests,
        else 1.0 (a slowdown that passed counts as the slowdown it is)."""
        return self.speedup if self.usable else 1.0

    @property
    def scored_gain(self) -> float:
        """As ``scored_speedup``, on the objective (the peak memory ratio for kind memory)."""
        return self.gain if self.usable else 1.0

    @property
    def reference_share(self) -> float | None:
        """Scored gain / the reference's (1/reference when nothing usable was committed)."""
        if self.reference_gain is None:
            return None
        return self.scored_gain / self.reference_gain

    @property
    def reaches_reference(self) -> bool:
        """Correct, by at least ``OPT_SHARE`` of the reference's gain (Opt@1)."""
        return (
            self.reference_gain is not None
            and self.correct
            and self.gain >= OPT_SHARE * self.reference_gain - _TOLERANCE
        )

    @property
    def reference_stored(self) -> bool:
        """The reference's figure is task.toml's value, not measured in this run (whatever
        ``reference_timing`` says short of "measured": nothing else could have set it)."""
        return self.reference_gain is not None and self.reference_timing != "measured"

    @property
    def candidates_accepted(self) -> int:
        return sum(candidate.accepted for candidate in self.candidates)

    @property
    def outcome(self) -> str:
        """One key of ``OUTCOMES``."""
        if self.wrong_commit:
            return "wrong_commit"
        if self.status != "ok":
            return "error"
        if self.correct:
            return "correct"
        if self.committed and self.hidden_tests is None:
            return "unchecked"
        if self.committed:
            return "too_small"
        return "held_back" if self.kind == "none" else "nothing"


def kinds_of(tasks: Iterable[TaskResult]) -> tuple[str, ...]:
    """The kinds a summary lists: ``KINDS``, then ``CLASS`` and ``MEMORY`` when a task is of
    them."""
    present = {task.kind for task in tasks}
    return (*KINDS, *(kind for kind in (CLASS, MEMORY) if kind in present))


def _listed(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else list(interval)


def as_results(items: Iterable[TaskResult | Mapping[str, Any]]) -> list[TaskResult]:
    """Task results, from ``TaskResult``s or their JSON."""
    return [item if isinstance(item, TaskResult) else TaskResult.from_json(item) for item in items]


def run_results(run: Mapping[str, Any]) -> list[TaskResult]:
    return as_results(run.get("tasks") or ())


def load_run(path: Path | str) -> dict[str, Any]:
    """A run from a ``results.json``; raises ``ValueError`` if it is not one (unreadable, not
    JSON, no tasks, or a malformed task)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable results.json ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        raise ValueError(f"{path}: not an eval's results.json (no tasks)")
    as_results(data["tasks"])
    return data

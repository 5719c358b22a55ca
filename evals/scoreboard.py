"""The scoreboard of ``evolver eval``: per-task results, the overall scores, and their renderings.

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

A task whose status is ``error`` is never solved and scores 1.0; a wrong commit still counts
as one even then.

Everything here is pure (data in, text out), but ``write_outputs`` and ``load_run``, which
take their paths explicitly. A *run* is a dict: ``{"provider", "model" (or
``options.model``), "tasks": [task result dicts], "summary": {...}, ...}``; the renderings
recompute the summary from the tasks, which are the source of truth.
"""

from __future__ import annotations

import html
import json
import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

KINDS = ("rules", "model", "none")
STATUSES = ("ok", "error")
HIDDEN = ("passed", "failed", None)
MIN_SPEEDUP = 1.1  # a correct speedup is at least this
OPT_SHARE = 0.95  # reaching the reference: at least this share of its speedup
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


@dataclass(frozen=True)
class CandidateResult:
    """One candidate the agent tried on a task, and the verdict on it."""

    summary: str = ""
    stage: str = ""
    accepted: bool = False
    reason: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CandidateResult:
        return cls(
            summary=str(data.get("summary") or ""),
            stage=str(data.get("stage") or ""),
            accepted=bool(data.get("accepted", False)),
            reason=str(data.get("reason") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "stage": self.stage,
            "accepted": self.accepted,
            "reason": self.reason,
        }


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
    candidates: tuple[CandidateResult, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    wall_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task {self.task!r}: kind {self.kind!r} is not one of {KINDS}")
        if self.status not in STATUSES:
            raise ValueError(f"task {self.task!r}: status {self.status!r} is not ok or error")
        if self.hidden_tests not in HIDDEN:
            raise ValueError(
                f"task {self.task!r}: hidden_tests {self.hidden_tests!r} is not passed, "
                "failed or null"
            )
        if not (math.isfinite(self.speedup) and self.speedup > 0):
            raise ValueError(f"task {self.task!r}: speedup {self.speedup!r} is not positive")
        reference = self.reference_speedup
        if reference is not None and not (math.isfinite(reference) and reference > 0):
            raise ValueError(f"task {self.task!r}: reference_speedup {reference!r} is not positive")

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
        interval = data.get("speedup_interval")
        if interval is not None and len(interval) != 2:
            raise ValueError(f"task {data['task']!r}: speedup_interval is not [low, high]")
        try:
            return cls(
                task=str(data["task"]),
                kind=str(data["kind"]),
                tags=tuple(str(tag) for tag in data.get("tags") or ()),
                target=str(data.get("target") or ""),
                status=str(data.get("status") or ("error" if error else "ok")),
                error=None if error is None else str(error),
                committed=bool(data.get("committed", False)),
                hidden_tests=data.get("hidden_tests"),
                hidden_failures=tuple(str(node) for node in data.get("hidden_failures") or ()),
                speedup=_float(data.get("speedup"), 1.0),
                speedup_interval=(
                    None if interval is None else (float(interval[0]), float(interval[1]))
                ),
                claimed_speedup=_opt_float(data.get("claimed_speedup")),
                reference_speedup=_opt_float(data.get("reference_speedup")),
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
        return {
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
            "speedup_interval": (
                None if self.speedup_interval is None else list(self.speedup_interval)
            ),
            "claimed_speedup": self.claimed_speedup,
            "reference_speedup": self.reference_speedup,
            "candidates": [candidate.to_json() for candidate in self.candidates],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "wall_seconds": self.wall_seconds,
        }

    @property
    def wrong_commit(self) -> bool:
        """Committed code that fails the hidden tests."""
        return self.committed and self.hidden_tests == "failed"

    @property
    def correct_speedup(self) -> bool:
        """Committed, the hidden tests pass, and at least ``MIN_SPEEDUP`` faster."""
        return (
            self.status == "ok"
            and self.committed
            and self.hidden_tests == "passed"
            and self.speedup >= MIN_SPEEDUP
        )

    @property
    def solved(self) -> bool:
        """A correct speedup, or nothing committed on a task with no safe speedup."""
        if self.status != "ok":
            return False
        return self.correct_speedup or (self.kind == "none" and not self.committed)

    @property
    def scored_speedup(self) -> float:
        """The speedup that counts: the measured one if the commit passed the hidden tests,
        else 1.0 (a slowdown that passed counts as the slowdown it is)."""
        if self.status == "ok" and self.committed and self.hidden_tests == "passed":
            return self.speedup
        return 1.0

    @property
    def reference_share(self) -> float | None:
        """Scored speedup / the reference's (1/reference when nothing usable was committed)."""
        if self.reference_speedup is None:
            return None
        return self.scored_speedup / self.reference_speedup

    @property
    def reaches_reference(self) -> bool:
        """A correct speedup of at least ``OPT_SHARE`` of the reference's (Opt@1)."""
        return (
            self.reference_speedup is not None
            and self.correct_speedup
            and self.speedup >= OPT_SHARE * self.reference_speedup - _TOLERANCE
        )

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
        if self.correct_speedup:
            return "correct"
        if self.committed and self.hidden_tests is None:
            return "unchecked"
        if self.committed:
            return "too_small"
        return "held_back" if self.kind == "none" else "nothing"


def as_results(items: Iterable[TaskResult | Mapping[str, Any]]) -> list[TaskResult]:
    """Task results, from ``TaskResult``s or their JSON."""
    return [item if isinstance(item, TaskResult) else TaskResult.from_json(item) for item in items]


def _run_results(run: Mapping[str, Any]) -> list[TaskResult]:
    return as_results(run.get("tasks") or ())


# ---------------------------------------------------------------------------------------------
# The overall scores


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _geomean(values: Sequence[float]) -> float | None:
    return statistics.geometric_mean(values) if values else None


def averages(values: Sequence[float]) -> dict[str, float | None]:
    """Geometric, harmonic and arithmetic means and the median of positive numbers (None
    each when there are none): one average alone misleads."""
    if not values:
        return {"geomean": None, "harmonic": None, "median": None, "mean": None}
    return {
        "geomean": _round(statistics.geometric_mean(values)),
        "harmonic": _round(statistics.harmonic_mean(values)),
        "median": _round(statistics.median(values)),
        "mean": _round(statistics.fmean(values)),
    }


def _fraction(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": _round(count / of) if of else None}


def summary(results: Iterable[TaskResult | Mapping[str, Any]]) -> dict[str, Any]:
    """The overall scores of a run, as JSON-able data.

    ``solved`` is over all tasks; ``correct_speedup`` and ``opt_at_1`` over the tasks that
    have a reference (``{"count", "of", "share"}``, share None when ``of`` is 0). The
    ``speedup`` averages are of the scored speedups of all tasks."""
    tasks = as_results(results)
    count = len(tasks)
    referenced = [task for task in tasks if task.reference_speedup is not None]
    shares = [task.reference_share for task in referenced]
    input_tokens = sum(task.input_tokens for task in tasks)
    output_tokens = sum(task.output_tokens for task in tasks)
    cost = sum(task.cost_usd for task in tasks)
    wall = sum(task.wall_seconds for task in tasks)
    by_kind = {}
    for kind in KINDS:
        of_kind = [task for task in tasks if task.kind == kind]
        by_kind[kind] = {
            "tasks": len(of_kind),
            "solved": sum(task.solved for task in of_kind),
            "speedup_geomean": _round(_geomean([task.scored_speedup for task in of_kind])),
        }
    return {
        "tasks": count,
        "errors": sum(task.status == "error" for task in tasks),
        "committed": sum(task.committed for task in tasks),
        "solved": _fraction(sum(task.solved for task in tasks), count),
        "correct_speedup": _fraction(
            sum(task.correct_speedup for task in referenced), len(referenced)
        ),
        "wrong_commits": sum(task.wrong_commit for task in tasks),
        "speedup": averages([task.scored_speedup for task in tasks]),
        "opt_at_1": _fraction(sum(task.reaches_reference for task in referenced), len(referenced)),
        "reference_share_geomean": _round(_geomean([s for s in shares if s is not None])),
        "cost_usd": {"total": _round(cost), "per_task": _round(cost / count) if count else None},
        "tokens": {
            "input": input_tokens,
            "output": output_tokens,
            "total": input_tokens + output_tokens,
        },
        "wall_seconds": {
            "total": _round(wall, 2),
            "mean": _round(wall / count, 2) if count else None,
        },
        "by_kind": by_kind,
    }


# ---------------------------------------------------------------------------------------------
# Formatting


def _x(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}×"
    if value >= 10:
        return f"{value:.1f}×"
    return f"{value:.2f}×"


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def _usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:.2f}" if abs(value) >= 1 else f"${value:.4f}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _count(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def _fraction_text(value: Mapping[str, Any] | None) -> str:
    if not value or not value.get("of"):
        return "—"
    return f"{value['count']}/{value['of']} ({_percent(value['share'])})"


def _signed(value: float, text: str) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


# How each overall metric reads, compares, and which way is better.
_FORMATS: dict[str, Callable[[Any], str]] = {
    "count": _count,
    "fraction": _fraction_text,
    "speedup": _x,
    "share": _percent,
    "usd": _usd,
    "seconds": _seconds,
}


@dataclass(frozen=True)
class _Metric:
    key: str  # a dotted path into the summary
    label: str
    form: str  # a key of _FORMATS
    better: str | None  # "higher", "lower" or None

    def value(self, summary: Mapping[str, Any]) -> Any:
        value: Any = summary
        for part in self.key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def text(self, summary: Mapping[str, Any]) -> str:
        return _FORMATS[self.form](self.value(summary))

    def difference(self, a: Any, b: Any) -> tuple[float | None, str]:
        """B − A as a number (the share for a fraction) and as text."""
        if self.form == "fraction":
            if not a or not b or a.get("share") is None or b.get("share") is None:
                return None, "—"
            diff = b["share"] - a["share"]
            counts = b["count"] - a["count"]
            points = f"{abs(diff) * 100:.1f} pp"
            return diff, f"{_signed(counts, str(abs(counts)))}, {_signed(diff, points)}"
        if a is None or b is None:
            return None, "—"
        diff = b - a
        magnitude = abs(diff)
        text = {
            "count": f"{magnitude:,}",
            "speedup": f"{magnitude:.2f}×",
            "share": f"{magnitude * 100:.1f} pp",
            "usd": _usd(magnitude),
            "seconds": f"{magnitude:.1f} s",
        }[self.form]
        return diff, _signed(diff, text)


_METRICS = (
    _Metric("tasks", "Tasks", "count", None),
    _Metric("errors", "Errors", "count", "lower"),
    _Metric("committed", "Committed", "count", None),
    _Metric("solved", "Solved", "fraction", "higher"),
    _Metric(
        "correct_speedup",
        "Correct speedup ≥ 1.1× (of tasks with a reference)",
        "fraction",
        "higher",
    ),
    _Metric("wrong_commits", "Wrong commits (must be 0)", "count", "lower"),
    _Metric("speedup.geomean", "Speedup, geometric mean", "speedup", "higher"),
    _Metric("speedup.harmonic", "Speedup, harmonic mean", "speedup", "higher"),
    _Metric("speedup.median", "Speedup, median", "speedup", "higher"),
    _Metric("speedup.mean", "Speedup, arithmetic mean", "speedup", "higher"),
    _Metric("opt_at_1", "Opt@1: ≥ 95% of the reference's speedup", "fraction", "higher"),
    _Metric("reference_share_geomean", "Share of the reference, geometric mean", "share", "higher"),
    _Metric("cost_usd.per_task", "Cost per task", "usd", "lower"),
    _Metric("cost_usd.total", "Cost, total", "usd", "lower"),
    _Metric("tokens.input", "Input tokens", "count", "lower"),
    _Metric("tokens.output", "Output tokens", "count", "lower"),
    _Metric("tokens.total", "Tokens, total", "count", "lower"),
    _Metric("wall_seconds.mean", "Wall time per task", "seconds", "lower"),
    _Metric("wall_seconds.total", "Wall time, sum over tasks", "seconds", "lower"),
)


def _kind_metrics(kinds: Iterable[str]) -> list[_Metric]:
    metrics = []
    for kind in kinds:
        metrics.append(_Metric(f"by_kind.{kind}.solved", f"{kind}: solved", "count", "higher"))
        metrics.append(
            _Metric(
                f"by_kind.{kind}.speedup_geomean", f"{kind}: speedup, geomean", "speedup", "higher"
            )
        )
    return metrics


def _model(run: Mapping[str, Any]) -> str | None:
    model = run.get("model")
    options = run.get("options")
    if model is None and isinstance(options, Mapping):
        model = options.get("model")
    return None if model is None else str(model)


def run_label(run: Mapping[str, Any]) -> str:
    """``provider`` or ``provider / model``."""
    provider = str(run.get("provider") or "?")
    model = _model(run)
    return f"{provider} / {model}" if model else provider


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def _md(text: object) -> str:
    """Text for a Markdown table cell: one line, the characters Markdown acts on escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int]) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _hidden_text(task: TaskResult) -> str:
    if task.hidden_tests == "failed" and task.hidden_failures:
        return f"failed ({len(task.hidden_failures)})"
    return task.hidden_tests or "—"


def _task_row(task: TaskResult) -> list[str]:
    speedup = _x(task.speedup)
    return [
        task.task,
        task.kind,
        OUTCOMES[task.outcome],
        "yes" if task.committed else "no",
        _hidden_text(task),
        f"~~{speedup}~~" if task.wrong_commit else speedup,
        _x(task.reference_speedup),
        _percent(task.reference_share),
        f"{task.candidates_accepted}/{len(task.candidates)}",
        _usd(task.cost_usd),
        f"{task.wall_seconds:.1f}",
    ]


_TASK_HEADER = (
    "Task", "Kind", "Outcome", "Committed", "Hidden tests", "Speedup", "Reference", "Share",
    "Accepted/candidates", "Cost", "Wall s",
)  # fmt: skip
_TASK_RIGHT = (5, 6, 7, 8, 9, 10)


# ---------------------------------------------------------------------------------------------
# Markdown


def markdown(run: Mapping[str, Any]) -> str:
    """A run as Markdown: the per-task table, the overall table, the scores per kind, and the
    wrong commits and errors spelled out."""
    tasks = _run_results(run)
    scores = summary(tasks)
    head = f"# Evolver eval: {_md(run_label(run))}"
    facts = [f"{scores['tasks']} tasks"]
    if run.get("finished"):
        facts.append(f"finished {_md(run['finished'])}")
    if isinstance(run.get("wall_seconds"), (int, float)):
        facts.append(f"wall time {_seconds(run['wall_seconds'])}")
    if run.get("resumed"):
        facts.append(f"{run['resumed']} tasks from an earlier, interrupted run")
    parts = [head, ", ".join(facts) + "."]
    parts.append(
        "A correct speedup: committed, the hidden tests pass, and ≥ 1.1× as timed by the "
        "harness. Share: of the reference solution's speedup (a task with nothing usable "
        "committed counts 1.0×). A struck-through speedup is a wrong commit's: it counts 1.0×."
    )
    rows = [
        [_md(cell) if i == 0 else cell for i, cell in enumerate(_task_row(task))] for task in tasks
    ]
    parts.append(_md_table(_TASK_HEADER, rows, _TASK_RIGHT))
    parts.append("## Overall")
    parts.append(
        _md_table(("Metric", "Value"), [(m.label, m.text(scores)) for m in _METRICS], (1,))
    )
    parts.append("## By kind")
    kind_rows = [
        (
            kind,
            str(scores["by_kind"][kind]["tasks"]),
            str(scores["by_kind"][kind]["solved"]),
            _x(scores["by_kind"][kind]["speedup_geomean"]),
        )
        for kind in KINDS
        if scores["by_kind"][kind]["tasks"]
    ]
    parts.append(_md_table(("Kind", "Tasks", "Solved", "Speedup, geomean"), kind_rows, (1, 2, 3)))
    wrong = [task for task in tasks if task.wrong_commit]
    if wrong:
        parts.append("## Wrong commits")
        parts.append("\n".join(f"- {_md(task.task)}: {_failures(task)}" for task in wrong))
    errors = [task for task in tasks if task.status == "error"]
    if errors:
        parts.append("## Errors")
        parts.append(
            "\n".join(f"- {_md(task.task)}: {_md(_shorten(task.error or '?'))}" for task in errors)
        )
    return "\n\n".join(parts) + "\n"


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failures(task: TaskResult, shown: int = 5) -> str:
    if not task.hidden_failures:
        return "the hidden tests failed"
    names = ", ".join(_md(node) for node in task.hidden_failures[:shown])
    more = len(task.hidden_failures) - shown
    return f"failed {names}" + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# The terminal


def run_rich(run: Mapping[str, Any]) -> RenderableType:
    """A run as rich tables (the per-task one and the overall one), for the terminal."""
    tasks = _run_results(run)
    scores = summary(tasks)
    per_task = Table(title=f"Evolver eval: {run_label(run)}", title_justify="left")
    for i, name in enumerate(_TASK_HEADER):
        per_task.add_column(name, justify="right" if i in _TASK_RIGHT else "left")
    for task in tasks:
        row = _task_row(task)
        row[5] = _x(task.speedup)
        per_task.add_row(*map(Text, row), style=_OUTCOME_STYLES.get(task.outcome))
    overall = Table("Metric", "Value", title="Overall", title_justify="left")
    for metric in (*_METRICS, *_kind_metrics(k for k in KINDS if scores["by_kind"][k]["tasks"])):
        overall.add_row(Text(metric.label), Text(metric.text(scores)))
    return Group(per_task, overall)


_OUTCOME_STYLES = {"wrong_commit": "bold red", "error": "magenta"}


# ---------------------------------------------------------------------------------------------
# The chart

_COLOURS = {
    "correct": "#2e7d32",
    "wrong_commit": "#c62828",
    "error": "#6a1b9a",
    "unchecked": "#ef6c00",
    "too_small": "#f9a825",
    "held_back": "#1565c0",
    "nothing": "#9e9e9e",
}
_REFERENCE_FILL = "#cfd8dc"
_REFERENCE_MARK = "#37474f"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: object) -> str:
    """Text for XML content or a quoted attribute."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def _ticks(low: float, high: float) -> list[float]:
    """The 1-2-5 ticks from ``low`` to ``high``."""
    first, last = math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1
    candidates = [float(f"{m}e{e}") for e in range(first, last + 1) for m in (1, 2, 5)]
    return [t for t in candidates if low * (1 - _TOLERANCE) <= t <= high * (1 + _TOLERANCE)]


def _axis(values: Sequence[float]) -> tuple[float, float]:
    """The ends of the log axis: ticks around the values, 1× and 2× always inside."""
    smallest, largest = min([*values, 1.0]) * 0.9, max([*values, 2.0])
    first, last = math.floor(math.log10(smallest)) - 1, math.ceil(math.log10(largest)) + 1
    candidates = [float(f"{m}e{e}") for e in range(first, last + 1) for m in (1, 2, 5)]
    low = max(t for t in candidates if t <= smallest)
    high = min(t for t in candidates if t >= largest * (1 - _TOLERANCE))
    return low, high


def _tick_label(tick: float) -> str:
    return f"{tick:g}×"


def _labelled(ticks: Sequence[float], x: Callable[[float], float]) -> set[float]:
    """The ticks whose labels fit: the powers of ten, then the 2s and 5s that do not crowd."""
    placed: list[tuple[float, float]] = []  # centre, half width
    chosen = set()
    for tick in sorted(ticks, key=lambda t: (f"{t:e}"[0] != "1", t)):
        centre, half = x(tick), len(_tick_label(tick)) * 6.5 / 2
        if all(abs(centre - other) >= half + other_half + 12 for other, other_half in placed):
            placed.append((centre, half))
            chosen.add(tick)
    return chosen


def chart_svg(
    results: Iterable[TaskResult | Mapping[str, Any]],
    title: str = "Speedup per task against the reference",
    subtitle: str | None = None,
) -> str:
    """A self-contained SVG: one row per task, on a log scale from 1×, the reference's speedup
    as a light bar with a dark mark at its end, and the harness-measured speedup as a
    narrower bar on it, coloured by outcome (``OUTCOMES``); ticks, a legend and a title.
    The subtitle defaults to the headline scores."""
    tasks = as_results(results)
    scores = summary(tasks)
    if subtitle is None:
        subtitle = (
            f"{scores['tasks']} tasks · solved {_fraction_text(scores['solved'])} · correct "
            f"speedup {_fraction_text(scores['correct_speedup'])} · wrong commits "
            f"{scores['wrong_commits']} · geometric mean {_x(scores['speedup']['geomean'])}"
        )
    width, row = 900, 22
    legend, legend_bottom = _legend(
        sorted({task.outcome for task in tasks}, key=list(OUTCOMES).index), width
    )
    top = legend_bottom + 34
    names = [_shorten(task.task, 40) for task in tasks]
    label_width = min(280, max(60, 7 * max((len(name) for name in names), default=0)))
    x0, x1 = label_width + 20, width - 150
    bottom = top + row * len(tasks)
    height = bottom + 50
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
        f"<title>{_esc(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        '<text x="16" y="26" font-size="17" font-weight="bold" fill="#212121">'
        f"{_esc(title)}</text>",
        f'<text x="16" y="46" fill="#555555">{_esc(subtitle)}</text>',
    ]
    out.extend(legend)
    if not tasks:
        out.append(f'<text x="16" y="{top}" fill="#555555">No tasks.</text>')
        out.append("</svg>")
        return "\n".join(out) + "\n"
    values = [task.speedup for task in tasks]
    values += [task.reference_speedup for task in tasks if task.reference_speedup is not None]
    low, high = _axis(values)
    span = math.log(high) - math.log(low)

    def x(value: float) -> float:
        value = min(max(value, low), high)
        return round(x0 + (math.log(value) - math.log(low)) / span * (x1 - x0), 2)

    ticks = _ticks(low, high)
    labelled_ticks = _labelled(ticks, x)
    for tick in ticks:
        baseline = abs(tick - 1.0) < _TOLERANCE
        labelled = tick in labelled_ticks
        colour, stroke = (
            ("#616161", 1.5) if baseline else ("#e0e0e0", 1) if labelled else ("#eeeeee", 1)
        )
        out.append(
            f'<line class="tick" x1="{x(tick)}" y1="{top - 4}" x2="{x(tick)}" y2="{bottom + 4}" '
            f'stroke="{colour}" stroke-width="{stroke}"/>'
        )
        if not labelled:
            continue
        for y in (top - 8, bottom + 18):
            out.append(
                f'<text x="{x(tick)}" y="{y}" text-anchor="middle" font-size="11" '
                f'fill="#424242">{_esc(_tick_label(tick))}</text>'
            )
    out.append(
        f'<text x="{(x0 + x1) / 2}" y="{bottom + 38}" text-anchor="middle" font-size="11" '
        'fill="#555555">speedup measured by the harness (log scale); bars start at 1× (no '
        "change)</text>"
    )
    one = x(1.0)
    for i, (task, name) in enumerate(zip(tasks, names, strict=True)):
        y = top + i * row
        middle = y + row / 2
        reference = task.reference_speedup
        share = _percent(task.reference_share)
        tip = f"{task.task} ({task.kind}): {OUTCOMES[task.outcome]}, {_x(task.speedup)}"
        if reference is not None:
            tip += f", reference {_x(reference)} ({share} of it)"
        out.append(f'<g class="task"><title>{_esc(tip)}</title>')
        if i % 2:
            out.append(f'<rect x="8" y="{y}" width="{width - 16}" height="{row}" fill="#f5f5f5"/>')
        out.append(
            f'<text x="{x0 - 8}" y="{middle + 4}" text-anchor="end" fill="#212121">'
            f"{_esc(name)}</text>"
        )
        ends = [one, x(task.speedup)]
        if reference is not None:
            left, right = sorted((one, x(reference)))
            out.append(
                f'<rect class="reference" x="{left}" y="{y + 3}" width="{round(right - left, 2)}" '
                f'height="{row - 6}" fill="{_REFERENCE_FILL}"/>'
            )
            out.append(
                f'<line class="reference-mark" x1="{x(reference)}" y1="{y + 2}" '
                f'x2="{x(reference)}" y2="{y + row - 2}" stroke="{_REFERENCE_MARK}" '
                'stroke-width="2"/>'
            )
            ends.append(x(reference))
        left, right = sorted((one, x(task.speedup)))
        if right - left < 2:  # nothing gained: a stub at 1×, so every task has its bar
            left, right = one - 1, one + 1
        out.append(
            f'<rect class="bar {task.outcome}" x="{left}" y="{y + 6}" '
            f'width="{round(right - left, 2)}" height="{row - 12}" '
            f'fill="{_COLOURS[task.outcome]}"/>'
        )
        value = _x(task.speedup) + (f" / {_x(reference)}" if reference is not None else "")
        if task.wrong_commit:
            value += " wrong"
        elif task.status == "error":
            value = "error"
        out.append(
            f'<text x="{max(ends) + 6}" y="{middle + 4}" font-size="11" '
            f'fill="{_COLOURS[task.outcome]}">{_esc(value)}</text>'
        )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(outcomes: Sequence[str], width: int) -> tuple[list[str], int]:
    """The legend's elements, in lines across ``width``, and where it ends."""
    items: list[tuple[str, str]] = [(OUTCOMES[o], _COLOURS[o]) for o in outcomes]
    out, x, y = [], 16.0, 60
    for label, colour in [*items, ("reference (light bar, dark mark at its end)", "")]:
        size = 12 + 6 + 6.5 * len(label) + 18
        if x > 16 and x + size > width - 16:
            x, y = 16.0, y + 18
        if colour:
            out.append(
                f'<rect class="legend" x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            )
        else:
            out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{_REFERENCE_FILL}"/>')
            out.append(
                f'<line x1="{x + 11}" y1="{y - 1}" x2="{x + 11}" y2="{y + 13}" '
                f'stroke="{_REFERENCE_MARK}" stroke-width="2"/>'
            )
        out.append(f'<text x="{x + 18}" y="{y + 10}" fill="#424242">{_esc(label)}</text>')
        x += size
    return out, y + 12


# ---------------------------------------------------------------------------------------------
# Two runs side by side

VERDICTS = (
    "new wrong commit",
    "still wrong commit",
    "newly solved",
    "regressed",
    "wrong commit fixed",
    "new error",
    "error fixed",
    "faster",
    "slower",
    "same",
    "only in A",
    "only in B",
)
_VERDICT_STYLES = {
    "new wrong commit": "bold red",
    "still wrong commit": "red",
    "regressed": "red",
    "new error": "magenta",
    "slower": "yellow",
    "newly solved": "green",
    "faster": "green",
    "wrong commit fixed": "green",
    "error fixed": "green",
}
_NOTABLE = {"new wrong commit", "still wrong commit", "regressed", "newly solved", "new error"}


def _verdict(a: TaskResult, b: TaskResult) -> str:
    if b.wrong_commit:
        return "still wrong commit" if a.wrong_commit else "new wrong commit"
    if b.solved and not a.solved:
        return "newly solved"
    if a.solved and not b.solved:
        return "regressed"
    if a.wrong_commit:
        return "wrong commit fixed"
    if b.status == "error" and a.status != "error":
        return "new error"
    if a.status == "error" and b.status != "error":
        return "error fixed"
    ratio = b.scored_speedup / a.scored_speedup
    if ratio >= MIN_SPEEDUP:
        return "faster"
    if ratio <= 1 / MIN_SPEEDUP:
        return "slower"
    return "same"


@dataclass(frozen=True)
class Comparison:
    """Two runs, task by task and overall, as data (see ``comparison``)."""

    label_a: str
    label_b: str
    tasks: tuple[dict[str, Any], ...]
    overall: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.label_a,
            "b": self.label_b,
            "tasks": list(self.tasks),
            "overall": list(self.overall),
        }


def comparison(a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
    """Runs A and B side by side.

    Per task (A's order, then the tasks only B has): the scored speedups, their ratio B/A
    (``change``), the outcomes, and a ``verdict`` (one of ``VERDICTS``). Overall: each metric
    of ``summary`` for A and B, B − A (for a fraction, the difference of the shares), which
    way is better, and whether B improved on it; all also as text."""
    tasks_a, tasks_b = _run_results(a), _run_results(b)
    by_name_a = {task.task: task for task in tasks_a}
    by_name_b = {task.task: task for task in tasks_b}
    names = list(by_name_a) + [name for name in by_name_b if name not in by_name_a]
    rows = []
    for name in names:
        task_a, task_b = by_name_a.get(name), by_name_b.get(name)
        speedup_a = None if task_a is None else task_a.scored_speedup
        speedup_b = None if task_b is None else task_b.scored_speedup
        if task_a is None or task_b is None:
            verdict = "only in B" if task_a is None else "only in A"
        else:
            verdict = _verdict(task_a, task_b)
        either = task_a or task_b
        assert either is not None
        rows.append(
            {
                "task": name,
                "kind": either.kind,
                "speedup_a": speedup_a,
                "speedup_b": speedup_b,
                "change": (
                    None
                    if speedup_a is None or speedup_b is None
                    else _round(speedup_b / speedup_a)
                ),
                "outcome_a": None if task_a is None else task_a.outcome,
                "outcome_b": None if task_b is None else task_b.outcome,
                "verdict": verdict,
            }
        )
    scores_a, scores_b = summary(tasks_a), summary(tasks_b)
    kinds = [
        kind
        for kind in KINDS
        if scores_a["by_kind"][kind]["tasks"] or scores_b["by_kind"][kind]["tasks"]
    ]
    overall = []
    for metric in (*_METRICS, *_kind_metrics(kinds)):
        value_a, value_b = metric.value(scores_a), metric.value(scores_b)
        diff, diff_text = metric.difference(value_a, value_b)
        improved = None
        if diff is not None and metric.better is not None and diff != 0:
            improved = (diff > 0) == (metric.better == "higher")
        overall.append(
            {
                "metric": metric.key,
                "label": metric.label,
                "a": value_a,
                "b": value_b,
                "difference": _round(diff),
                "better": metric.better,
                "improved": improved,
                "a_text": metric.text(scores_a),
                "b_text": metric.text(scores_b),
                "difference_text": diff_text,
            }
        )
    label_a, label_b = run_label(a), run_label(b)
    return Comparison(label_a, label_b, tuple(rows), tuple(overall))


def _change_text(change: float | None) -> str:
    """B/A as a percentage, or as a factor beyond 2× either way."""
    if change is None:
        return "—"
    if change >= 2:
        return f"×{_x(change)[:-1]}"
    if change <= 0.5:
        return f"÷{_x(1 / change)[:-1]}"
    percent = (change - 1) * 100
    return _signed(round(percent), f"{abs(percent):.0f}%")


def _outcome_text(outcome: str | None) -> str:
    return "—" if outcome is None else OUTCOMES[outcome]


def _task_cells(row: Mapping[str, Any]) -> list[str]:
    return [
        row["task"],
        row["kind"],
        _x(row["speedup_a"]),
        _x(row["speedup_b"]),
        _change_text(row["change"]),
        _outcome_text(row["outcome_a"]),
        _outcome_text(row["outcome_b"]),
        row["verdict"],
    ]


_COMPARE_HEADER = ("Task", "Kind", "A", "B", "Change", "A outcome", "B outcome", "Verdict")


def comparison_markdown(result: Comparison) -> str:
    """A comparison as Markdown: the tasks, then the overall metrics with B − A."""
    rows = []
    for row in result.tasks:
        cells = _task_cells(row)
        cells[0] = _md(cells[0])
        if row["verdict"] in _NOTABLE:
            cells[-1] = f"**{cells[-1]}**"
        rows.append(cells)
    overall = [
        (row["label"], row["a_text"], row["b_text"], row["difference_text"])
        for row in result.overall
    ]
    return (
        "\n\n".join(
            [
                "# Evolver eval: A against B",
                f"A: {_md(result.label_a)}. B: {_md(result.label_b)}. Speedups are the scored "
                "ones (1.0× for nothing usable committed); change is B against A.",
                _md_table(_COMPARE_HEADER, rows, (2, 3, 4)),
                "## Overall",
                _md_table(("Metric", "A", "B", "B − A"), overall, (1, 2, 3)),
            ]
        )
        + "\n"
    )


def comparison_rich(result: Comparison) -> RenderableType:
    """A comparison as rich tables, for the terminal."""
    per_task = Table(title=f"A: {result.label_a}   B: {result.label_b}", title_justify="left")
    for i, name in enumerate(_COMPARE_HEADER):
        per_task.add_column(name, justify="right" if i in (2, 3, 4) else "left")
    for row in result.tasks:
        cells = [Text(cell) for cell in _task_cells(row)]
        cells[-1].stylize(_VERDICT_STYLES.get(row["verdict"], ""))
        per_task.add_row(*cells)
    overall = Table("Metric", "A", "B", "B − A", title="Overall", title_justify="left")
    for row in result.overall:
        style = "" if row["improved"] is None else "green" if row["improved"] else "red"
        overall.add_row(
            Text(row["label"]),
            Text(row["a_text"]),
            Text(row["b_text"]),
            Text(row["difference_text"], style=style),
        )
    return Group(per_task, overall)


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[RenderableType, str]:
    """Runs A and B side by side: (rich tables for the terminal, the same as Markdown). For
    the data, see ``comparison``."""
    result = comparison(a, b)
    return comparison_rich(result), comparison_markdown(result)


# ---------------------------------------------------------------------------------------------
# Files


def make_run(
    provider: str,
    model: str | None,
    results: Iterable[TaskResult | Mapping[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """A run as data: provider, model, the tasks' JSON, their summary, and ``extra``."""
    tasks = as_results(results)
    return {
        "provider": provider,
        "model": model,
        **extra,
        "tasks": [task.to_json() for task in tasks],
        "summary": summary(tasks),
    }


def write_outputs(run: Mapping[str, Any], out_dir: Path | str) -> dict[str, Path]:
    """Write ``results.json`` (the run, with its summary recomputed), ``results.md`` and
    ``chart.svg`` into ``out_dir`` (made if missing); return their paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = _run_results(run)
    given = run.get("tasks") or []
    data = {
        **run,
        "tasks": [task.to_json() if isinstance(task, TaskResult) else task for task in given],
        "summary": summary(tasks),
    }
    title = f"Speedup per task against the reference: {run_label(run)}"
    paths = {
        "json": out / "results.json",
        "markdown": out / "results.md",
        "chart": out / "chart.svg",
    }
    texts = {
        "json": json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
        "markdown": markdown(run),
        "chart": chart_svg(tasks, title=title),
    }
    for name, path in paths.items():
        partial = path.with_name(path.name + ".part")
        partial.write_text(texts[name], encoding="utf-8")
        partial.replace(path)
    return paths


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

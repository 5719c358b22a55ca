"""One run of ``evolver eval`` as Markdown and as rich tables, and the formatting they share
with ``evals/chart.py`` and ``evals/compare.py`` (speedups, shares, money, Markdown cells,
the overall metrics).

Everything here is pure (data in, text out). The renderings recompute the summary from the
run's tasks, which are the source of truth (see ``evals/scores.py``).

(Over 400 lines: the metrics and the per-task tables of both objectives, time and memory, are
read by every rendering, and kept in one place.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agent.reports import format as fmt
from evals.results import MEMORY, OUTCOMES, UNLABELLED, TaskResult, run_results
from evals.scores import run_label, summary

# ---------------------------------------------------------------------------------------------
# Formatting


NONE = "—"  # the eval's tables mark a missing value with an em dash


def speedup_text(value: float | None) -> str:
    return fmt.times_scaled(value, missing=NONE)


def share_text(share: float | None) -> str:
    return fmt.percent(share, 0, missing=NONE)


def _usd(value: float | None) -> str:
    return fmt.usd(value, missing=NONE)


def _seconds(value: float | None) -> str:
    return fmt.seconds(value, 1, missing=NONE)


def _count(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def fraction_text(value: Mapping[str, Any] | None) -> str:
    if not value or not value.get("of"):
        return "—"
    return f"{value['count']}/{value['of']} ({share_text(value['share'])})"


def _points(share: float) -> str:
    """A difference of two shares, in percentage points: ``2.5 pp``."""
    return f"{fmt.fixed(share * 100, 1)} pp"


def signed(value: float, text: str) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


# How each overall metric reads, compares, and which way is better.
_FORMATS: dict[str, Callable[[Any], str]] = {
    "count": _count,
    "fraction": fraction_text,
    "speedup": speedup_text,
    "share": share_text,
    "usd": _usd,
    "seconds": _seconds,
}


@dataclass(frozen=True)
class Metric:
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
            points = _points(abs(diff))
            return diff, f"{signed(counts, str(abs(counts)))}, {signed(diff, points)}"
        if a is None or b is None:
            return None, "—"
        diff = b - a
        magnitude = abs(diff)
        text = {
            "count": f"{magnitude:,}",
            "speedup": fmt.times(magnitude),
            "share": _points(magnitude),
            "usd": _usd(magnitude),
            "seconds": _seconds(magnitude),
        }[self.form]
        return diff, signed(diff, text)


METRICS = (
    Metric("tasks", "Tasks", "count", None),
    Metric("errors", "Errors", "count", "lower"),
    Metric("committed", "Committed", "count", None),
    Metric("solved", "Solved", "fraction", "higher"),
    Metric(
        "correct_speedup",
        "Correct speedup ≥ 1.1× (of tasks with a reference)",
        "fraction",
        "higher",
    ),
    Metric("wrong_commits", "Wrong commits (must be 0)", "count", "lower"),
    Metric("speedup.geomean", "Speedup, geometric mean", "speedup", "higher"),
    Metric("speedup.harmonic", "Speedup, harmonic mean", "speedup", "higher"),
    Metric("speedup.median", "Speedup, median", "speedup", "higher"),
    Metric("speedup.mean", "Speedup, arithmetic mean", "speedup", "higher"),
    Metric("opt_at_1", "Opt@1: ≥ 95% of the reference's speedup", "fraction", "higher"),
    Metric("reference_share_geomean", "Share of the reference, geometric mean", "share", "higher"),
    Metric("reference_measured", "References timed in this run", "fraction", None),
    Metric("cost_usd.per_task", "Cost per task", "usd", "lower"),
    Metric("cost_usd.total", "Cost, total", "usd", "lower"),
    Metric("tokens.input", "Input tokens", "count", "lower"),
    Metric("tokens.output", "Output tokens", "count", "lower"),
    Metric("tokens.total", "Tokens, total", "count", "lower"),
    Metric("wall_seconds.mean", "Wall time per task", "seconds", "lower"),
    Metric("wall_seconds.total", "Wall time, sum over tasks", "seconds", "lower"),
)


# The summary's ``memory`` scores, shown when a run has tasks scored on memory.
MEMORY_METRICS = (
    Metric("memory.tasks", "Memory tasks", "count", None),
    Metric(
        "memory.correct",
        "Memory: correct saving ≥ 1.1× (of memory tasks with a reference)",
        "fraction",
        "higher",
    ),
    Metric("memory.ratio.geomean", "Memory: peak ratio, geometric mean", "speedup", "higher"),
    Metric("memory.ratio.harmonic", "Memory: peak ratio, harmonic mean", "speedup", "higher"),
    Metric("memory.ratio.median", "Memory: peak ratio, median", "speedup", "higher"),
    Metric("memory.ratio.mean", "Memory: peak ratio, arithmetic mean", "speedup", "higher"),
    Metric(
        "memory.opt_at_1", "Memory: Opt@1, ≥ 95% of the reference's ratio", "fraction", "higher"
    ),
    Metric(
        "memory.reference_share_geomean",
        "Memory: share of the reference, geometric mean",
        "share",
        "higher",
    ),
    Metric(
        "memory.reference_measured", "Memory: references measured in this run", "fraction", None
    ),
)


def metrics(*summaries: Mapping[str, Any]) -> tuple[Metric, ...]:
    """The overall metrics of these summaries: ``METRICS``, and ``MEMORY_METRICS`` when one of
    them has tasks scored on memory."""
    memory = any("memory" in found for found in summaries)
    return (*METRICS, *MEMORY_METRICS) if memory else METRICS


def kind_metrics(kinds: Iterable[str]) -> list[Metric]:
    metrics = []
    for kind in kinds:
        metrics.append(Metric(f"by_kind.{kind}.solved", f"{kind}: solved", "count", "higher"))
        metrics.append(
            Metric(
                f"by_kind.{kind}.speedup_geomean", f"{kind}: speedup, geomean", "speedup", "higher"
            )
        )
        if kind == MEMORY:
            key = f"by_kind.{kind}.memory_ratio_geomean"
            metrics.append(Metric(key, f"{kind}: peak ratio, geomean", "speedup", "higher"))
    return metrics


def kinds_shown(*summaries: Mapping[str, Any]) -> list[str]:
    """The kinds that have tasks in one of these summaries, in their order."""
    kinds = dict.fromkeys(kind for found in summaries for kind in found["by_kind"])
    return [kind for kind in kinds if any(_kind_tasks(found, kind) for found in summaries)]


def _kind_tasks(found: Mapping[str, Any], kind: str) -> int:
    return int(found["by_kind"].get(kind, {}).get("tasks", 0))


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md(text: object) -> str:
    """Text for a Markdown table cell: one line, the characters Markdown acts on escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int]) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _hidden_text(task: TaskResult) -> str:
    if task.hidden_tests == "failed" and task.hidden_failures:
        return f"failed ({len(task.hidden_failures)})"
    return task.hidden_tests or "—"


STORED_MARK = "†"
STORED_NOTE = (
    f"{STORED_MARK} stored value (task.toml), not measured in this run: its share and Opt@1 "
    "compare the harness's timing of the result with a timing made otherwise."
)


def _reference_text(task: TaskResult) -> str:
    reference = speedup_text(task.reference_gain)
    return reference + STORED_MARK if task.reference_stored else reference


_GAIN = 5  # the column of what the harness measured on the task's objective


def _task_row(task: TaskResult) -> list[str]:
    """A task's row: its figures on its objective (the speedup, or the peak memory ratio and
    then the speedup), with the reference's and the share of it."""
    gain = speedup_text(task.gain)
    row = [
        task.task,
        task.kind,
        OUTCOMES[task.outcome],
        "yes" if task.committed else "no",
        _hidden_text(task),
        f"~~{gain}~~" if task.wrong_commit else gain,
        _reference_text(task),
        share_text(task.reference_share),
    ]
    if task.objective == MEMORY:
        row.append(speedup_text(task.speedup))
    row += [
        f"{task.candidates_accepted}/{len(task.candidates)}",
        _committed_strategies(task),
        _usd(task.cost_usd),
        fmt.fixed(task.wall_seconds, 1),
    ]
    return row


@dataclass(frozen=True)
class _TaskTable:
    """The per-task table of the tasks scored on one objective."""

    header: tuple[str, ...]
    right: tuple[int, ...]  # right-aligned columns
    text: tuple[int, ...] = (0, 9)  # cells from the results' data, escaped in Markdown


_TASK_TABLES = {
    "time": _TaskTable(
        ("Task", "Kind", "Outcome", "Committed", "Hidden tests", "Speedup", "Reference", "Share",
         "Accepted/candidates", "Committed strategy", "Cost", "Wall s"),
        (5, 6, 7, 8, 10, 11),
    ),
    MEMORY: _TaskTable(
        ("Task", "Kind", "Outcome", "Committed", "Hidden tests", "Peak memory", "Reference",
         "Share", "Speedup", "Accepted/candidates", "Committed strategy", "Cost", "Wall s"),
        (5, 6, 7, 8, 9, 11, 12),
        (0, 10),
    ),
}  # fmt: skip
MEMORY_NOTE = (
    "Tasks scored on memory: a correct saving is committed, passes the hidden tests, and takes "
    "≤ 1/1.1 of the original's peak memory on the benchmark's call, as the harness measured "
    "it (peak memory: original / result, 2× is half). Reference and share are of the reference "
    "solution's ratio, measured in the same run; the speedup is for information."
)


def by_objective(tasks: Sequence[TaskResult]) -> list[tuple[str, list[TaskResult]]]:
    """The tasks by the objective they are scored on: those on time (also when there are no
    tasks at all), then those on memory if any."""
    time = [task for task in tasks if task.objective == "time"]
    memory = [task for task in tasks if task.objective == MEMORY]
    groups = [("time", time)] if time or not memory else []
    return groups + ([(MEMORY, memory)] if memory else [])


def _committed_strategies(task: TaskResult) -> str:
    """The strategies of the committed candidates (several rounds may each commit one)."""
    labels = [c.strategy or UNLABELLED for c in task.candidates if c.committed]
    return ", ".join(dict.fromkeys(labels)) or "—"


# ---------------------------------------------------------------------------------------------
# Strategies

STRATEGIES_NOTE = (
    "Each cell: tried/accepted/won — candidates that followed the strategy, those the checks "
    "accepted, and tasks where its committed candidate made a correct speedup. A rules "
    "candidate that applied several rules counts for each of their strategies."
)


def _strategy_cell(counts: Mapping[str, int]) -> str:
    return f"{counts['tried']}/{counts['accepted']}/{counts['won']}"


def strategy_table(scores: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The summary's ``strategies`` as a table: a row per strategy, a column per task kind
    that has tasks, then all kinds and the candidates committed. No rows when no candidate
    was tried."""
    found = scores.get("strategies") or {}
    overall: Mapping[str, Mapping[str, int]] = found.get("overall") or {}
    by_kind: Mapping[str, Mapping[str, Mapping[str, int]]] = found.get("by_kind") or {}
    kinds = kinds_shown(scores)
    header = ["Strategy", *kinds, "All kinds", "Committed"]
    rows = [
        [
            name,
            *(_strategy_cell(by_kind[kind][name]) for kind in kinds),
            _strategy_cell(counts),
            str(counts["committed"]),
        ]
        for name, counts in overall.items()
    ]
    return header, rows


# ---------------------------------------------------------------------------------------------
# Markdown


def markdown(run: Mapping[str, Any]) -> str:
    """A run as Markdown: the per-task table, the overall table, the scores per kind, and the
    wrong commits and errors spelled out."""
    tasks = run_results(run)
    scores = summary(tasks)
    head = f"# Evolver eval: {md(run_label(run))}"
    facts = [f"{scores['tasks']} tasks"]
    if run.get("finished"):
        facts.append(f"finished {md(run['finished'])}")
    if isinstance(run.get("wall_seconds"), (int, float)):
        facts.append(f"wall time {_seconds(run['wall_seconds'])}")
    if run.get("resumed"):
        facts.append(f"{run['resumed']} tasks from an earlier, interrupted run")
    parts = [head, ", ".join(facts) + "."]
    parts.append(
        "A correct speedup: committed, the hidden tests pass, and ≥ 1.1× as timed by the "
        "harness. Reference: the reference solution's speedup, timed in the same run the same "
        "way. Share: of the reference's speedup (a task with nothing usable committed counts "
        "1.0×). A struck-through speedup is a wrong commit's: it counts 1.0×."
    )
    for objective, of_objective in by_objective(tasks):
        table = _TASK_TABLES[objective]
        if objective == MEMORY:
            parts += ["## Memory", MEMORY_NOTE]
        rows = [
            [md(cell) if i in table.text else cell for i, cell in enumerate(_task_row(task))]
            for task in of_objective
        ]
        parts.append(md_table(table.header, rows, table.right))
    stored = [task for task in tasks if task.reference_stored]
    if stored:
        parts.append(STORED_NOTE + "".join(_why_stored(task) for task in stored))
    parts.append("## Overall")
    overall = [(m.label, m.text(scores)) for m in metrics(scores)]
    parts.append(md_table(("Metric", "Value"), overall, (1,)))
    parts.append("## By kind")
    kinds = kinds_shown(scores)
    kind_header = ["Kind", "Tasks", "Solved", "Speedup, geomean"]
    kind_rows = []
    for kind in kinds:
        found = scores["by_kind"][kind]
        kind_rows.append(
            [
                kind,
                str(found["tasks"]),
                str(found["solved"]),
                speedup_text(found["speedup_geomean"]),
            ]
        )
        if MEMORY in kinds:  # a column for the tasks scored on memory
            kind_rows[-1].append(speedup_text(found.get("memory_ratio_geomean")))
    if MEMORY in kinds:
        kind_header.append("Peak ratio, geomean")
    parts.append(md_table(kind_header, kind_rows, tuple(range(1, len(kind_header)))))
    header, strategy_rows = strategy_table(scores)
    if strategy_rows:
        parts.append("## Strategies")
        parts.append(STRATEGIES_NOTE)
        cells = [[md(row[0]), *row[1:]] for row in strategy_rows]
        parts.append(md_table(header, cells, tuple(range(1, len(header)))))
    wrong = [task for task in tasks if task.wrong_commit]
    if wrong:
        parts.append("## Wrong commits")
        parts.append("\n".join(f"- {md(task.task)}: {_failures(task)}" for task in wrong))
    errors = [task for task in tasks if task.status == "error"]
    if errors:
        parts.append("## Errors")
        lines = (f"- {md(t.task)}: {md(fmt.one_line(t.error or '?', 200))}" for t in errors)
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _why_stored(task: TaskResult) -> str:
    """A line for the footnote when the run said why it could not time the reference."""
    if not task.reference_error:
        return ""
    return f"\n- {md(task.task)}: {md(fmt.one_line(task.reference_error, 200))}"


def _failures(task: TaskResult, shown: int = 5) -> str:
    if not task.hidden_failures:
        return "the hidden tests failed"
    names = ", ".join(md(node) for node in task.hidden_failures[:shown])
    more = len(task.hidden_failures) - shown
    return f"failed {names}" + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# The terminal


def run_rich(run: Mapping[str, Any]) -> RenderableType:
    """A run as rich tables (the per-task one and the overall one), for the terminal."""
    tasks = run_results(run)
    scores = summary(tasks)
    per_task = []
    for objective, of_objective in by_objective(tasks):
        table = _TASK_TABLES[objective]
        title = f"Evolver eval: {run_label(run)}"
        shown = Table(
            title=title if objective == "time" else f"{title}, scored on memory",
            title_justify="left",
            caption=_caption(of_objective, objective),
            caption_justify="left",
        )
        for i, name in enumerate(table.header):
            shown.add_column(name, justify="right" if i in table.right else "left")
        for task in of_objective:
            row = _task_row(task)
            row[_GAIN] = speedup_text(task.gain)
            shown.add_row(*map(Text, row), style=_OUTCOME_STYLES.get(task.outcome))
        per_task.append(shown)
    overall = Table("Metric", "Value", title="Overall", title_justify="left")
    for metric in (*metrics(scores), *kind_metrics(kinds_shown(scores))):
        overall.add_row(Text(metric.label), Text(metric.text(scores)))
    header, strategy_rows = strategy_table(scores)
    if not strategy_rows:
        return Group(*per_task, overall)
    by_strategy = Table(
        title="Strategies", title_justify="left", caption=STRATEGIES_NOTE, caption_justify="left"
    )
    for i, name in enumerate(header):
        by_strategy.add_column(name, justify="right" if i else "left")
    for row in strategy_rows:
        by_strategy.add_row(*map(Text, row))
    return Group(*per_task, overall, by_strategy)


def _caption(tasks: Sequence[TaskResult], objective: str) -> str | None:
    notes = [MEMORY_NOTE] if objective == MEMORY else []
    notes += [STORED_NOTE] if any(task.reference_stored for task in tasks) else []
    return "\n".join(notes) or None


_OUTCOME_STYLES = {"wrong_commit": "bold red", "error": "magenta"}

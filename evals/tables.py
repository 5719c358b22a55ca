"""One run of ``evolver eval`` as Markdown and as rich tables, and the formatting they share
with ``evals/chart.py`` and ``evals/compare.py`` (speedups, shares, money, Markdown cells,
the overall metrics).

Everything here is pure (data in, text out). The renderings recompute the summary from the
run's tasks, which are the source of truth (see ``evals/scores.py``).
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
from evals.results import KINDS, OUTCOMES, UNLABELLED, TaskResult, run_results
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


def kind_metrics(kinds: Iterable[str]) -> list[Metric]:
    metrics = []
    for kind in kinds:
        metrics.append(Metric(f"by_kind.{kind}.solved", f"{kind}: solved", "count", "higher"))
        metrics.append(
            Metric(
                f"by_kind.{kind}.speedup_geomean", f"{kind}: speedup, geomean", "speedup", "higher"
            )
        )
    return metrics


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
    reference = speedup_text(task.reference_speedup)
    return reference + STORED_MARK if task.reference_stored else reference


def _task_row(task: TaskResult) -> list[str]:
    speedup = speedup_text(task.speedup)
    return [
        task.task,
        task.kind,
        OUTCOMES[task.outcome],
        "yes" if task.committed else "no",
        _hidden_text(task),
        f"~~{speedup}~~" if task.wrong_commit else speedup,
        _reference_text(task),
        share_text(task.reference_share),
        f"{task.candidates_accepted}/{len(task.candidates)}",
        _committed_strategies(task),
        _usd(task.cost_usd),
        fmt.fixed(task.wall_seconds, 1),
    ]


_TASK_HEADER = (
    "Task", "Kind", "Outcome", "Committed", "Hidden tests", "Speedup", "Reference", "Share",
    "Accepted/candidates", "Committed strategy", "Cost", "Wall s",
)  # fmt: skip
_TASK_RIGHT = (5, 6, 7, 8, 10, 11)
_TASK_TEXT = (0, 9)  # cells from the results' data, escaped in Markdown


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
    kinds = [kind for kind in KINDS if scores["by_kind"][kind]["tasks"]]
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
    rows = [
        [md(cell) if i in _TASK_TEXT else cell for i, cell in enumerate(_task_row(task))]
        for task in tasks
    ]
    parts.append(md_table(_TASK_HEADER, rows, _TASK_RIGHT))
    stored = [task for task in tasks if task.reference_stored]
    if stored:
        parts.append(STORED_NOTE + "".join(_why_stored(task) for task in stored))
    parts.append("## Overall")
    parts.append(md_table(("Metric", "Value"), [(m.label, m.text(scores)) for m in METRICS], (1,)))
    parts.append("## By kind")
    kind_rows = [
        (
            kind,
            str(scores["by_kind"][kind]["tasks"]),
            str(scores["by_kind"][kind]["solved"]),
            speedup_text(scores["by_kind"][kind]["speedup_geomean"]),
        )
        for kind in KINDS
        if scores["by_kind"][kind]["tasks"]
    ]
    parts.append(md_table(("Kind", "Tasks", "Solved", "Speedup, geomean"), kind_rows, (1, 2, 3)))
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
    per_task = Table(
        title=f"Evolver eval: {run_label(run)}",
        title_justify="left",
        caption=STORED_NOTE if any(task.reference_stored for task in tasks) else None,
        caption_justify="left",
    )
    for i, name in enumerate(_TASK_HEADER):
        per_task.add_column(name, justify="right" if i in _TASK_RIGHT else "left")
    for task in tasks:
        row = _task_row(task)
        row[5] = speedup_text(task.speedup)
        per_task.add_row(*map(Text, row), style=_OUTCOME_STYLES.get(task.outcome))
    overall = Table("Metric", "Value", title="Overall", title_justify="left")
    for metric in (*METRICS, *kind_metrics(k for k in KINDS if scores["by_kind"][k]["tasks"])):
        overall.add_row(Text(metric.label), Text(metric.text(scores)))
    header, strategy_rows = strategy_table(scores)
    if not strategy_rows:
        return Group(per_task, overall)
    by_strategy = Table(
        title="Strategies", title_justify="left", caption=STRATEGIES_NOTE, caption_justify="left"
    )
    for i, name in enumerate(header):
        by_strategy.add_column(name, justify="right" if i else "left")
    for row in strategy_rows:
        by_strategy.add_row(*map(Text, row))
    return Group(per_task, overall, by_strategy)


_OUTCOME_STYLES = {"wrong_commit": "bold red", "error": "magenta"}

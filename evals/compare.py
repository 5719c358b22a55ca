"""Two runs of ``evolver eval`` side by side: task by task and overall, as data, Markdown and
rich tables.

Everything here is pure (data in, text out). The scores are recomputed from the runs' tasks,
which are the source of truth (see ``evals/scores.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from evals.results import MEMORY, MIN_SPEEDUP, OUTCOMES, TaskResult, run_results
from evals.scores import (
    rounded,
    run_label,
    summary,
)
from evals.tables import kind_metrics, kinds_shown, md, md_table, metrics, signed, speedup_text

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
    "leaner",  # a task scored on memory
    "heavier",
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
    "heavier": "yellow",
    "leaner": "green",
    "newly solved": "green",
    "faster": "green",
    "wrong commit fixed": "green",
    "error fixed": "green",
}
_NOTABLE = {"new wrong commit", "still wrong commit", "regressed", "newly solved", "new error"}

# Which way each verdict moved B against A. A wrong commit kept is no change (and stays bold).
DIRECTIONS = ("gained", "lost", "same", "only in A", "only in B")
_DIRECTION = {
    "new wrong commit": "lost",
    "still wrong commit": "same",
    "newly solved": "gained",
    "regressed": "lost",
    "wrong commit fixed": "gained",
    "new error": "lost",
    "error fixed": "gained",
    "faster": "gained",
    "slower": "lost",
    "leaner": "gained",
    "heavier": "lost",
    "same": "same",
    "only in A": "only in A",
    "only in B": "only in B",
}
_DIRECTION_STYLES = {"gained": "green", "lost": "red"}


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
    better, worse = ("leaner", "heavier") if b.objective == MEMORY else ("faster", "slower")
    ratio = b.scored_gain / a.scored_gain
    if ratio >= MIN_SPEEDUP:
        return better
    if ratio <= 1 / MIN_SPEEDUP:
        return worse
    return "same"


@dataclass(frozen=True)
class Comparison:
    """Two runs, task by task and overall, as data (see ``comparison``)."""

    label_a: str
    label_b: str
    tasks: tuple[dict[str, Any], ...]
    overall: tuple[dict[str, Any], ...]
    stored_references: tuple[int, int] = (0, 0)  # A's and B's references not timed in the run

    @property
    def counts(self) -> dict[str, int]:
        """Tasks per direction (``DIRECTIONS``), every direction present."""
        found = {direction: 0 for direction in DIRECTIONS}
        for row in self.tasks:
            found[row["direction"]] += 1
        return found

    @property
    def counts_text(self) -> str:
        """``"2 gained, 1 lost, 3 same"``, then the tasks only one run has, if any."""
        counts = self.counts
        text = f"{counts['gained']} gained, {counts['lost']} lost, {counts['same']} same"
        for side in ("only in A", "only in B"):
            if counts[side]:
                text += f", {counts[side]} {side}"
        return text

    @property
    def reference_note(self) -> str | None:
        """A warning when a run's references were stored values, not timed in the run."""
        stored_a, stored_b = self.stored_references
        if not (stored_a or stored_b):
            return None
        return (
            f"References stored, not timed in the run: {stored_a} in A, {stored_b} in B; "
            "shares and Opt@1 of those tasks compare unlike timings."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.label_a,
            "b": self.label_b,
            "counts": self.counts,
            "tasks": list(self.tasks),
            "overall": list(self.overall),
            "stored_references": {"a": self.stored_references[0], "b": self.stored_references[1]},
        }


def comparison(a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
    """Runs A and B side by side.

    Per task (A's order, then the tasks only B has): the scored speedups (peak memory ratios,
    for a task scored on memory), their ratio B/A
    (``change``), the outcomes, a ``verdict`` (one of ``VERDICTS``) and its ``direction``
    (gained, lost, same, only in A or only in B; ``Comparison.counts`` tallies them).
    Overall: each metric of ``summary`` for A and B, B − A (for a fraction, the difference of
    the shares), which way is better, and whether B improved on it; all also as text."""
    tasks_a, tasks_b = run_results(a), run_results(b)
    by_name_a = {task.task: task for task in tasks_a}
    by_name_b = {task.task: task for task in tasks_b}
    names = list(by_name_a) + [name for name in by_name_b if name not in by_name_a]
    rows = []
    for name in names:
        task_a, task_b = by_name_a.get(name), by_name_b.get(name)
        speedup_a = None if task_a is None else task_a.scored_gain
        speedup_b = None if task_b is None else task_b.scored_gain
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
                    else rounded(speedup_b / speedup_a)
                ),
                "outcome_a": None if task_a is None else task_a.outcome,
                "outcome_b": None if task_b is None else task_b.outcome,
                "verdict": verdict,
                "direction": _DIRECTION[verdict],
            }
        )
    scores_a, scores_b = summary(tasks_a), summary(tasks_b)
    overall = []
    for metric in (*metrics(scores_a, scores_b), *kind_metrics(kinds_shown(scores_a, scores_b))):
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
                "difference": rounded(diff),
                "better": metric.better,
                "improved": improved,
                "a_text": metric.text(scores_a),
                "b_text": metric.text(scores_b),
                "difference_text": diff_text,
            }
        )
    label_a, label_b = run_label(a), run_label(b)
    stored = (
        sum(task.reference_stored for task in tasks_a),
        sum(task.reference_stored for task in tasks_b),
    )
    return Comparison(label_a, label_b, tuple(rows), tuple(overall), stored)


def _change_text(change: float | None) -> str:
    """B/A as a percentage, or as a factor beyond 2× either way."""
    if change is None:
        return "—"
    if change >= 2:
        return f"×{speedup_text(change)[:-1]}"
    if change <= 0.5:
        return f"÷{speedup_text(1 / change)[:-1]}"
    percent = (change - 1) * 100
    return signed(round(percent), f"{abs(percent):.0f}%")


def _outcome_text(outcome: str | None) -> str:
    return "—" if outcome is None else OUTCOMES[outcome]


def _task_cells(row: Mapping[str, Any]) -> list[str]:
    return [
        row["task"],
        row["kind"],
        speedup_text(row["speedup_a"]),
        speedup_text(row["speedup_b"]),
        _change_text(row["change"]),
        _outcome_text(row["outcome_a"]),
        _outcome_text(row["outcome_b"]),
        row["verdict"],
        row["direction"],
    ]


_MEMORY_NOTE = " For a task of kind memory, they are its scored peak memory ratios."
_COMPARE_HEADER = (
    "Task", "Kind", "A", "B", "Change", "A outcome", "B outcome", "Verdict", "B against A",
)  # fmt: skip
_VERDICT_COLUMN = 7


def comparison_markdown(result: Comparison) -> str:
    """A comparison as Markdown: the tasks, then the overall metrics with B − A."""
    rows = []
    for row in result.tasks:
        cells = _task_cells(row)
        cells[0] = md(cells[0])
        if row["verdict"] in _NOTABLE:
            cells[_VERDICT_COLUMN] = f"**{cells[_VERDICT_COLUMN]}**"
        rows.append(cells)
    overall = [
        (row["label"], row["a_text"], row["b_text"], row["difference_text"])
        for row in result.overall
    ]
    parts = [
        "# Evolver eval: A against B",
        f"**{result.counts_text}.**",
        f"A: {md(result.label_a)}. B: {md(result.label_b)}. Speedups are the scored "
        "ones (1.0× for nothing usable committed); change is B against A."
        + (_MEMORY_NOTE if any(row["kind"] == MEMORY for row in result.tasks) else ""),
        md_table(_COMPARE_HEADER, rows, (2, 3, 4)),
    ]
    if result.reference_note:
        parts.append(result.reference_note)
    parts += ["## Overall", md_table(("Metric", "A", "B", "B − A"), overall, (1, 2, 3))]
    return "\n\n".join(parts) + "\n"


def comparison_rich(result: Comparison) -> RenderableType:
    """A comparison as rich tables, for the terminal."""
    per_task = Table(
        title=f"A: {result.label_a}   B: {result.label_b}",
        title_justify="left",
        caption=result.reference_note,
        caption_justify="left",
    )
    for i, name in enumerate(_COMPARE_HEADER):
        per_task.add_column(name, justify="right" if i in (2, 3, 4) else "left")
    for row in result.tasks:
        cells = [Text(cell) for cell in _task_cells(row)]
        cells[_VERDICT_COLUMN].stylize(_VERDICT_STYLES.get(row["verdict"], ""))
        cells[-1].stylize(_DIRECTION_STYLES.get(row["direction"], ""))
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
    return Group(Text(result.counts_text, style="bold"), per_task, overall)


def compare(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[RenderableType, str]:
    """Runs A and B side by side: (rich tables for the terminal, the same as Markdown). For
    the data, see ``comparison``."""
    result = comparison(a, b)
    return comparison_rich(result), comparison_markdown(result)

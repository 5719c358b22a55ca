"""The SVG chart of one run of ``evolver eval``: each task's speedup against the reference's.

Pure (data in, text out), and self-contained: no script, no external reference.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agent.reports import format as fmt
from agent.reports.chart import LogScale, is_one, tick_label
from evals.results import MEMORY, OUTCOMES, TaskResult, as_results
from evals.scores import summary
from evals.tables import fraction_text, share_text, speedup_text

_COLOURS = {
    "correct": "#2e7d32",
    "wrong_commit": "#c62828",
    "error": "#6a1b9a",
    "unchecked": "#ef6c00",
    "too_small": "#f9a825",
    "held_back": "#1565c0",
    "nothing": "#9e9e9e",
}
_MEMORY_AXIS = " (for tasks of kind memory, the peak memory ratio)"
_REFERENCE_FILL = "#cfd8dc"
_REFERENCE_MARK = "#37474f"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: object) -> str:
    """Text for XML content or a quoted attribute."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def chart_svg(
    results: Iterable[TaskResult | Mapping[str, Any]],
    title: str = "Speedup per task against the reference",
    subtitle: str | None = None,
) -> str:
    """A self-contained SVG: one row per task, on a log scale from 1×, the reference's speedup
    as a light bar with a dark mark at its end, and the harness-measured speedup as a
    narrower bar on it, coloured by outcome (``OUTCOMES``); ticks, a legend and a title. A task
    scored on memory shows its peak memory ratios instead (original / result, marked
    "memory").
    The subtitle defaults to the headline scores."""
    tasks = as_results(results)
    scores = summary(tasks)
    if subtitle is None:
        subtitle = (
            f"{scores['tasks']} tasks · solved {fraction_text(scores['solved'])} · correct "
            f"speedup {fraction_text(scores['correct_speedup'])} · wrong commits "
            f"{scores['wrong_commits']} · geometric mean "
            f"{speedup_text(scores['speedup']['geomean'])}"
        )
    width, row = 900, 22
    legend, legend_bottom = _legend(
        sorted({task.outcome for task in tasks}, key=list(OUTCOMES).index), width
    )
    top = legend_bottom + 34
    names = [fmt.one_line(task.task, 40) for task in tasks]
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
    values = [task.gain for task in tasks]
    values += [task.reference_gain for task in tasks if task.reference_gain is not None]
    scale = LogScale.around(values, x0, x1)
    memory = any(task.objective == MEMORY for task in tasks)
    x = scale.x
    ticks = scale.ticks()
    labelled_ticks = scale.labelled(ticks)
    for tick in ticks:
        baseline = is_one(tick)
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
                f'fill="#424242">{_esc(tick_label(tick))}</text>'
            )
    out.append(
        f'<text x="{(x0 + x1) / 2}" y="{bottom + 38}" text-anchor="middle" font-size="11" '
        f'fill="#555555">speedup{_MEMORY_AXIS if memory else ""} measured by the harness (log '
        "scale); bars start at 1× (no change)</text>"
    )
    one = x(1.0)
    for i, (task, name) in enumerate(zip(tasks, names, strict=True)):
        y = top + i * row
        middle = y + row / 2
        reference = task.reference_gain
        share = share_text(task.reference_share)
        less = " less peak memory" if task.objective == MEMORY else ""
        tip = (
            f"{task.task} ({task.kind}): {OUTCOMES[task.outcome]}, {speedup_text(task.gain)}{less}"
        )
        if reference is not None:
            tip += f", reference {speedup_text(reference)} ({share} of it)"
        out.append(f'<g class="task"><title>{_esc(tip)}</title>')
        if i % 2:
            out.append(f'<rect x="8" y="{y}" width="{width - 16}" height="{row}" fill="#f5f5f5"/>')
        out.append(
            f'<text x="{x0 - 8}" y="{middle + 4}" text-anchor="end" fill="#212121">'
            f"{_esc(name)}</text>"
        )
        ends = [one, x(task.gain)]
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
        left, right = scale.bar(task.gain)
        out.append(
            f'<rect class="bar {task.outcome}" x="{left}" y="{y + 6}" '
            f'width="{round(right - left, 2)}" height="{row - 12}" '
            f'fill="{_COLOURS[task.outcome]}"/>'
        )
        value = speedup_text(task.gain)
        if reference is not None:
            value += f" / {speedup_text(reference)}"
        value += " memory" if less else ""
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

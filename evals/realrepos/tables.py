"""The benchmark's summary as ``summary.json``, a Markdown page and a rich table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from agent.reports import format as fmt

COLUMNS = (
    "repo", "targets", "candidates", "accepted", "committed", "broken commits",
    "whole-result speedup", "judgeability", "wall time",
)  # fmt: skip
_REASON_CHARS = 160


def write_summary(summary: dict[str, Any], out: Path) -> None:
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(markdown(summary), encoding="utf-8")


def rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row per repository, then the totals."""
    table = [_row(record) for record in summary["repos"]]
    totals = summary["totals"]
    table.append(
        [
            "**all**",
            str(totals["targets"]),
            str(totals["candidates"]),
            str(totals["accepted"]),
            str(totals["committed"]),
            str(totals["broken_commits"]),
            "",
            _share(totals["judged"], totals["targets"], totals["judgeability"]),
            _duration(totals["wall_seconds"]),
        ]
    )
    return table


def _row(record: dict[str, Any]) -> list[str]:
    name = f"{record['repo']} {record['version']}"
    if record["status"] != "ok":
        failed = f"{record['status']}: {record['error']}"
        return [name, failed, "", "", "", str(record["broken_commits"]), "", "", _wall(record)]
    return [
        name,
        str(record["targets"]),
        str(record["candidates"]),
        str(record["accepted"]),
        str(record["committed"]),
        str(record["broken_commits"]),
        _speedup(record),
        _share(record["judged"], record["targets"], record["judgeability"]),
        _wall(record),
    ]


def _speedup(record: dict[str, Any]) -> str:
    found = record.get("speedup")
    if not found or found.get("speedup") is None:
        return "none (nothing confirmed)" if record["committed"] else "none (nothing committed)"
    return f"{fmt.times(found['speedup'])} ({found.get('method') or '?'})"


def _share(judged: int, targets: int, share: float | None) -> str:
    return "–" if share is None else f"{judged}/{targets} ({share:.0%})"


def _wall(record: dict[str, Any]) -> str:
    text = _duration(record["wall_seconds"])
    return f"{text} (resumed)" if record.get("resumed") else text


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def target_rows(record: dict[str, Any]) -> list[list[str]]:
    """Per target, each candidate: its verdict, stage, whether it was judged, its reason."""
    found = []
    for target in record["per_target"]:
        candidates = target["candidates"] or [None]
        for candidate in candidates:
            if candidate is None:
                found.append([target["target"], "–", "–", "no", "no candidate"])
                continue
            judged = "yes" if candidate["compared"] and candidate["timed"] else _why_not(candidate)
            found.append(
                [
                    target["target"],
                    candidate["verdict"],
                    candidate["stage"],
                    judged,
                    fmt.one_line(candidate["reason"], _REASON_CHARS),
                ]
            )
    return found


def _why_not(candidate: dict[str, Any]) -> str:
    missing = [what for what in ("compared", "timed") if not candidate[what]]
    return "no (not " + " nor ".join(missing) + ")"


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# Real-repo benchmark: provider `{summary['provider']}`",
        "",
        _md_table(list(COLUMNS), rows(summary)),
        "",
        "Judgeability: the share of targets whose candidate had its behaviour compared and its "
        "speed measured. Broken commits: commits on the result branch that fail the library's "
        "own suite (must be 0).",
    ]
    for record in summary["repos"]:
        lines += ["", f"## {record['repo']} {record['version']}", ""]
        lines.append(f"Tests: `{record['test_command']}`.")
        suite = record.get("suite")
        if suite is not None:
            verdict = "passes" if suite["passed"] else f"fails: {suite['broken']}"
            commits = f"{suite['commits']} commits"
            lines.append(f"The suite on `{record['branch']}` ({commits}) {verdict}.")
        per_target = target_rows(record)
        if per_target:
            header = ["target", "verdict", "stage", "judged", "reason"]
            lines += ["", _md_table(header, per_target)]
    return "\n".join(lines) + "\n"


def _md_table(header: list[str], body: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, body)])


def rich_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"Real-repo benchmark: provider {summary['provider']}")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "repo" else "right")
    for row in rows(summary):
        table.add_row(*(cell.replace("**", "") for cell in row))
    return table


def rich_targets(record: dict[str, Any]) -> Table:
    table = Table(title=f"{record['repo']}: per target")
    for column in ("target", "verdict", "stage", "judged", "reason"):
        table.add_column(column, overflow="fold")
    for row in target_rows(record):
        table.add_row(*row)
    return table

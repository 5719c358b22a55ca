"""``evolver history``, ``show`` and ``report``: what Evolver did, and why.

Registered on the app by ``agent.cli.main``; the history itself is ``agent.record.store``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from agent.domain import FunctionProfile, TargetRef, compared, confidence_text
from agent.errors import UsageError
from agent.record import gitops
from agent.record.store import Resume, Store
from agent.reports import format as fmt
from agent.reports.html import write_html
from agent.reports.model import (
    Report,
    ReportCandidate,
    ReportError,
    ReportMemory,
    ReportRisk,
    ReportTarget,
)
from agent.reports.terminal import results_console

RepoOpt = Annotated[
    Path,
    typer.Option("--repo", "-C", help="The repository (default: the current directory)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
EVENTS_SHOWN = 200  # the newest; a long-running watch records one per cycle


def open_store(repo: Path) -> Store:
    """The history of the repository at ``repo`` (which must be a git checkout)."""
    root = Path(gitops.open_repo(repo.resolve()).working_dir)
    try:
        return Store(root)
    except OSError as error:
        raise UsageError(f"cannot keep the history in {root}/.evolver: {error.strerror}") from None


def resume_point(store: Store, run_id: int, flags: dict[str, Any]) -> tuple[Resume, dict[str, Any]]:
    """Where run ``run_id`` stopped, and the flags to go on with: its own settings, except
    those that only say where to report (``--json``) and how to show progress."""
    stored = store.run(run_id)
    if stored.status == "finished":
        raise UsageError(f"run {run_id} finished; there is nothing to resume")
    settings = {k: v for k, v in stored.config.items() if v is not None}
    settings.update(base=stored.base_commit, branch=stored.branch, json_path=flags["json_path"])
    targets = tuple(
        (
            TargetRef.parse(t["target"]),
            FunctionProfile(t["own_time"], t["cum_time"], t["calls"], t["share"])
            if t.get("own_time") is not None
            else None,
        )
        for t in stored.targets
    )
    if not targets:
        raise UsageError(f"run {run_id} stopped before it chose its targets; start a new one")
    point = Resume(
        run_id=run_id,
        base=stored.base_commit,
        branch=stored.branch,
        tip=_last_tip(stored.base_commit, [ref for ref, _ in targets], stored.done),
        targets=targets,
        done=frozenset(TargetRef.parse(t) for t in stored.done),
        outcomes=tuple(store.outcomes(run_id)),
    )
    return point, settings


def _last_tip(base: str, order: list[TargetRef], done: dict[str, str]) -> str:
    """Targets are done in order; the tip after the last one done is where to go on from."""
    tip = base
    for ref in order:
        tip = done.get(str(ref), tip)
    return tip


def history(
    run: Annotated[int | None, typer.Argument(help="A run: list its candidates.")] = None,
    repo: RepoOpt = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """List Evolver's runs in this repository, or one run's candidates."""
    memory: dict[tuple[str, str], ReportMemory] = {}
    with open_store(repo) as store:
        if run is None:
            rows = store.runs()
            events = store.events(last=EVENTS_SHOWN)
        else:
            memory = memory_figures(store.run(run).report)  # an unknown run: a clear error
            rows = store.candidates(run)
            events = store.events(run_id=run)
    for row in rows if memory else ():
        if (figures := memory.get((row["target"], row["candidate"]))) is not None:
            row["memory"] = figures.to_json()
    if as_json:
        key = "runs" if run is None else "candidates"
        print(json.dumps({key: rows, "events": events}, indent=2))
        return
    out = results_console()
    if run is None:
        out.print(_runs_table(rows))
    else:
        out.print(_candidates_table(run, rows, memory))
    if events:
        out.print(_events_table(events))


def show(
    candidate: Annotated[
        str,
        typer.Argument(
            help="A candidate: its number in the history (`evolver history RUN`), or its id in "
            "a JSON report (a unique prefix will do)."
        ),
    ],
    repo: RepoOpt = Path("."),
    as_json: JsonFlag = False,
) -> None:
    """One candidate: its diff, the evidence for or against it, and its measurements."""
    with open_store(repo) as store:
        number, others = find_candidate(store, candidate)
        found = store.candidate(number)
        memory = memory_figures(store.run(found["run_id"]).report).get(
            (found["target"], found["candidate"])
        )
    if memory is not None:
        found["memory"] = memory.to_json()
    if as_json:
        print(json.dumps(found, indent=2))
        return
    out = results_console()
    if others:
        shown = ", ".join(f"{row['id']} (run {row['run_id']})" for row in others)
        out.print(f"[dim]the newest of {len(others) + 1}; also: evolver show {shown}[/]")
    verdict = found["decision"]
    colour = {"committed": "green", "accepted": "yellow"}.get(verdict, "red")
    out.print(
        f"[bold]candidate {found['id']}[/] (run {found['run_id']}) · {found['target']} · "
        f"{escape(found['summary'])} · {escape(found['provider'])} · [{colour}]{verdict}[/]"
    )
    out.print(f"strategy: {escape(found['strategy'] or 'unknown')}")
    if found["commit"]:
        out.print(f"commit {found['commit']}")
    stages = " → ".join(found["stages_passed"]) or "none"
    out.print(f"stages passed: {stages}")
    if found["stages_not_compared"]:
        out.print(f"not compared: {', '.join(found['stages_not_compared'])}")
    if not found["accepted"]:
        # Reasons and evidence quote what candidate code did: printed as text, never markup.
        out.print(f"rejected at [bold]{escape(found['stage'])}[/]: {escape(found['reason'])}")
    for check, sentence in found["evidence"].items():
        mark = "[green]✓[/]" if compared(sentence) else "–"
        out.print(f"  {mark} {escape(check)}: {escape(sentence)}")
    if found["speedup"] is not None:
        low, high = found["ci"]
        how = (
            f"end to end (the whole run's), {found['samples']} processes a side"
            if found["timing_method"] == "end to end"
            else f"first calls {fmt.times(found['first_call_speedup'])}, {found['samples']} samples"
        )
        out.print(
            f"speedup {fmt.times(found['speedup'])} ({confidence_text(found['confidence'])} "
            f"interval {fmt.interval((low, high))}, {how})"
        )
    if memory is not None:
        out.print(memory_line(memory))
    if found["risk"]:
        out.print(f"risk {found['risk']['level']}: {escape('; '.join(found['risk']['reasons']))}")
    for event in found["events"]:
        out.print(f"{event['at']} {event['kind']} {event['commit'] or ''} {event['detail']}")
    if found["patch"]:
        out.print(Syntax(found["patch"], "diff", theme="ansi_dark", background_color="default"))


def memory_figures(report: dict[str, Any] | None) -> dict[tuple[str, str], ReportMemory]:
    """Each candidate's peak memory against the original's, by target and candidate id, from a
    run's report (the history keeps them there only): none for a run that measured time
    only, or never finished."""
    try:
        candidates = Report.from_json(report).candidates if report else ()
    except ReportError:
        return {}
    return {(c.target, c.id): c.memory for c in candidates if c.memory is not None}


def memory_line(memory: ReportMemory) -> str:
    """``memory: peak 3.2 MiB → 1.0 MiB, 3.20× less (99% interval 3.10–3.30×, …)``."""
    level = confidence_text(memory.confidence) if 0 < memory.confidence < 1 else "its"
    processes = fmt.plural(memory.processes, "process", "processes")
    return (
        f"memory: peak {fmt.size(memory.original)} → {fmt.size(memory.candidate)}, "
        f"{fmt.less_or_more(memory.ratio)} ({level} interval {fmt.interval(memory.ci)}, "
        f"{processes} a side)"
    )


def find_candidate(store: Store, given: str) -> tuple[int, list[dict[str, Any]]]:
    """The history's number of the candidate ``given`` names: a number in the history, or a
    candidate id of a JSON report (a content digest, or a unique prefix of one). The same
    change proposed in several runs has one id: the newest is shown, the others returned."""
    text = given.strip().lower()
    if text.isdecimal() and text.isascii():
        number = int(text)
        if _has_candidate(store, number) or not _HEX_ID.fullmatch(text):
            return number, []  # an unknown number: the store says so
    if not _HEX_ID.fullmatch(text):
        raise UsageError(f"no candidate {given} in the history: give its number or its id")
    rows = [
        row
        for run in store.runs(limit=2**31)
        for row in store.candidates(run["id"])
        if row["candidate"].startswith(text)
    ]
    ids = sorted({row["candidate"] for row in rows})
    if not rows:
        raise UsageError(f"no candidate {given} in the history ({store.path})")
    if len(ids) > 1:
        raise UsageError(f"candidate id {given} is ambiguous: {', '.join(ids[:5])}; give more")
    newest, *others = sorted(rows, key=lambda row: -row["id"])
    return newest["id"], others


_HEX_ID = re.compile(r"[0-9a-f]{4,64}")  # a candidate id, or enough of one to tell


def _has_candidate(store: Store, number: int) -> bool:
    try:
        store.candidate(number)
    except UsageError:
        return False
    return True


def report(
    run: Annotated[int | None, typer.Argument(help="A run (default: the latest).")] = None,
    repo: RepoOpt = Path("."),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="The HTML file (default: evolver-RUN.html).")
    ] = None,
) -> None:
    """Write a self-contained HTML page of a run: profile, candidates, chart, diffs."""
    with open_store(repo) as store:
        run_id = store.latest_run() if run is None else run
        data = stored_run(store, run_id)
    path = out or Path(f"evolver-{run_id}.html")
    if not path.parent.is_dir():
        raise UsageError(f"--out: no directory {path.parent}")
    write_html(data, path)
    Console().print(f"wrote {path}")


def stored_run(store: Store, run_id: int) -> Report:
    """The run's report; for a run that never finished, what the history holds of it."""
    stored = store.run(run_id)
    try:
        if stored.report is not None:
            return Report.from_json(stored.report)
        targets = tuple(
            ReportTarget.from_json(t, f"targets[{i}]") for i, t in enumerate(stored.targets)
        )
    except ReportError as error:
        raise UsageError(f"the history's report of run {run_id} cannot be read: {error}") from None
    candidates = tuple(_as_report_candidate(row) for row in store.candidates(run_id))
    return Report(
        run_id=stored.id,
        repo=str(store.path.parent.parent),
        base_commit=stored.base_commit,
        provider=stored.provider,
        model=stored.model,
        started=stored.started,
        finished=stored.finished,
        targets=targets,
        candidates=candidates,
        accepted=sum(c.accepted for c in candidates),
        committed=sum(c.committed for c in candidates),
        notes=(f"run {run_id} is {stored.status}: this is what it recorded",),
    )


def _as_report_candidate(row: dict[str, Any]) -> ReportCandidate:
    """A candidate of the history as its run's report would have had it."""
    timed = row["speedup"] is not None
    risk = row["risk"]
    return ReportCandidate(
        id=row["candidate"],
        target=row["target"],
        provider=row["provider"],
        summary=row["summary"],
        strategy=row["strategy"],
        verdict="accepted" if row["accepted"] else "rejected",
        stage=row["stage"],
        reason=row["reason"],
        speedup=row["speedup"],
        ci=tuple(row["ci"]) if row["ci"] else None,
        confidence=row["confidence"] if timed else None,
        first_call_speedup=row["first_call_speedup"],
        timing_method=row["timing_method"],
        not_compared=tuple(row["stages_not_compared"]),
        committed=row["decision"] == "committed",
        commit=row["commit"],
        provenance=row["provenance"],
        evidence=row["evidence"] or None,
        risk=ReportRisk(risk["level"], tuple(risk["reasons"])) if risk else None,
        patch=row["patch"],
    )


def _runs_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Runs", title_justify="left")
    for column in (
        "run",
        "started",
        "status",
        "base",
        "provider",
        "targets",
        "candidates",
        "committed",
        "branch",
    ):
        table.add_column(column, justify="right" if column in ("run", "targets") else "left")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["started"],
            row["status"],
            fmt.short_sha(row["base_commit"]),
            row["provider"] + (f" ({row['model']})" if row["model"] else ""),
            str(row["targets"]),
            str(row["candidates"]),
            str(row["committed"]),
            row["branch"] or fmt.MISSING,
        )
    return table


def _candidates_table(
    run: int,
    rows: list[dict[str, Any]],
    memory: dict[tuple[str, str], ReportMemory] | None = None,
) -> Table:
    """The run's candidates; with a column of their memory ratios (original / candidate) when
    any of them was measured."""
    table = Table(title=f"Run {run}: candidates", title_justify="left")
    memory = memory or {}
    columns = ("id", "target", "candidate", "strategy", "decision", "stage", "speedup")
    numeric = ("id", "speedup", "less memory")
    for column in (*columns, *(("less memory",) if memory else ()), "risk", "detail"):
        table.add_column(column, justify="right" if column in numeric else "left", overflow="fold")
    for row in rows:
        figures = memory.get((row["target"], row["candidate"]))
        table.add_row(
            str(row["id"]),
            row["target"],
            escape(row["summary"]),
            escape(row["strategy"] or fmt.MISSING),
            row["decision"],
            escape(row["stage"]),
            fmt.times(row["speedup"]),
            *((fmt.times_scaled(figures.ratio if figures else None),) if memory else ()),
            row["risk"]["level"] if row["risk"] else fmt.MISSING,
            fmt.short_sha(row["commit"])
            if row["decision"] == "committed"
            else escape(row["reason"]),
        )
    return table


def _events_table(events: list[dict[str, Any]]) -> Table:
    table = Table(title="Events", title_justify="left")
    for column in ("at", "kind", "run", "candidate", "branch", "commit", "detail"):
        table.add_column(column, overflow="fold")
    for event in events:
        detail = event["detail"]
        table.add_row(
            event["at"],
            event["kind"],
            str(event["run_id"] or fmt.MISSING),
            str(event["candidate_id"] or fmt.MISSING),
            event["branch"] or fmt.MISSING,
            fmt.short_sha(event["commit"]) or fmt.MISSING,
            detail.get("summary") or json.dumps(detail)[:120],
        )
    return table

"""Results as tables for people, in the terminal (rich).

The JSON report is ``agent.reports.model``'s and numbers read as ``agent.reports.format`` writes
them.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.domain import MemoryProfile, MemoryUse, RunReport, Target
from agent.reports import format as fmt

PIPED_WIDTH = 4096  # columns of results that go to a pipe or a file: nothing is cut or wrapped
_CHANGE_MARKUP = {
    "faster": "[green]faster[/]",
    "slower": "[red]slower[/]",
    "about the same": "[yellow]about the same[/]",
    "too noisy to tell": "[yellow]too noisy to tell[/]",
}


def results_console() -> Console:
    """Where results go (stdout): as wide as the terminal on one; elsewhere (a pipe, a file,
    a CI log) complete lines, so that tables are never cut to 80 columns nor wrapped."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPED_WIDTH, soft_wrap=True)


def profile_table(targets: list[Target], title: str) -> Table:
    """The ranked targets; with their memory (peak of one call, those peaks summed, what was
    still allocated at the end) when the profile traced it."""
    table = Table(title=title, title_justify="left")
    memory = any(t.profile is not None and t.profile.memory is not None for t in targets)
    columns = ("#", "target", "share", "own s", "cum s", "calls", "CC", "effort", "MI")
    for column in (*columns, *(("peak", "allocated", "alive") if memory else ())):
        table.add_column(column, justify="left" if column == "target" else "right", overflow="fold")
    for number, target in enumerate(targets, 1):
        p, m = target.profile, target.metrics
        used = p.memory if p is not None else None
        table.add_row(
            str(number),
            str(target.ref),
            fmt.percent(p.share if p else None),
            fmt.fixed(p.own_time if p else None, 3),
            fmt.fixed(p.cum_time if p else None, 3),
            str(p.calls) if p else fmt.MISSING,
            str(m.complexity),
            fmt.fixed(m.halstead_effort, 0),
            fmt.fixed(m.maintainability, 0),
            *(_memory_profile_cells(used) if memory else ()),
        )
    return table


def results_table(report: RunReport) -> Table:
    table = Table(title="Candidates", title_justify="left")
    levels = {o.verdict.timing.level for o in report.outcomes if o.verdict.timing}
    interval = f"{levels.pop()} CI" if len(levels) == 1 else "CI"
    memory = report.objective != "time"
    columns = ("target", "candidate", "strategy", "verdict", "speedup", interval, "1st call")
    memory_columns = ("peak", "less memory", "99% CI") if memory else ()
    for column in (*columns, *memory_columns, "detail"):
        numeric = column not in ("target", "candidate", "strategy", "verdict")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for o in report.outcomes:
        timing, used = o.verdict.timing, o.verdict.memory
        if o.committed:
            verdict, detail = "[green]committed[/]", f"commit {fmt.short_sha(o.commit)}"
        elif o.verdict.accepted:
            verdict, detail = "[yellow]accepted[/]", "a better candidate won"
        else:
            # Reasons quote what candidate code did (an exception's message): never markup.
            verdict, detail = "[red]rejected[/]", escape(f"{o.verdict.stage}: {o.verdict.reason}")
        table.add_row(
            str(o.candidate.target),
            escape(o.candidate.summary),
            escape(o.candidate.strategy or fmt.MISSING),
            verdict,
            fmt.times(timing.speedup if timing else None),
            fmt.interval(timing.ci if timing else None, unit=""),
            fmt.times(timing.first_call if timing else None),
            *(_memory_cells(used) if memory else ()),
            detail,
        )
    confirmed = report.confirmation
    if confirmed is not None:
        table.add_section()
        wall = fmt.wall(confirmed.base_seconds, confirmed.result_seconds)
        count = len(confirmed.benchmarks)
        medians = f"geometric mean of {count} benchmarks' medians" if count != 1 else "its median"
        how = (
            f"{medians}; wall {wall}"
            if confirmed.method == "benchmarks"
            else f"median wall time {wall}"
        )
        table.add_row(
            "[bold]whole result[/]",
            confirmed.what,
            fmt.MISSING,
            _CHANGE_MARKUP[confirmed.change],
            fmt.times(confirmed.speedup),
            fmt.MISSING,
            fmt.MISSING,
            *(fmt.MISSING for _ in memory_columns),
            f"base against result, {confirmed.runs} runs each alternating: {how}",
        )
    return table


def _memory_profile_cells(used: MemoryProfile | None) -> tuple[str, ...]:
    if used is None:
        return fmt.MISSING, fmt.MISSING, fmt.MISSING
    return fmt.size(used.peak), fmt.size(used.allocated), fmt.size(used.alive)


def _memory_cells(used: MemoryUse | None) -> tuple[str, str, str]:
    """Peak before → after, the ratio (original / candidate) and its interval."""
    if used is None:
        return fmt.MISSING, fmt.MISSING, fmt.MISSING
    peak = f"{fmt.size(used.original)} → {fmt.size(used.candidate)}"
    return peak, fmt.times_scaled(used.ratio), fmt.interval(used.ci, unit="")


def print_summary(console: Console, report: RunReport) -> None:
    if report.outcomes:
        console.print(results_table(report))
    for note in report.notes:
        console.print(f"[dim]note:[/] {escape(note)}")
    if report.branch:
        console.print(
            f"[bold green]{report.committed} change(s) committed[/] on branch "
            f"[bold]{report.branch}[/] (from {fmt.short_sha(report.base_commit)}); "
            "your checkout is unchanged."
        )
    else:
        better = {"time": "faster", "memory": "leaner"}.get(report.objective, "better")
        console.print(f"[bold]No change was committed[/]: nothing was proven {better} and correct.")

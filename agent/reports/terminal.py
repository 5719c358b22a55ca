"""Results as tables for people, in the terminal (rich).

The JSON report is ``agent.reports.model``'s and numbers read as ``agent.reports.format`` writes
them.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.domain import RunReport, Target
from agent.reports import format as fmt

PIPED_WIDTH = 4096  # columns of results that go to a pipe or a file: nothing is cut or wrapped
_CHANGE_MARKUP = {
    "faster": "[green]faster[/]",
    "slower": "[red]slower[/]",
    "about the same": "[yellow]about the same[/]",
}


def results_console() -> Console:
    """Where results go (stdout): as wide as the terminal on one; elsewhere (a pipe, a file,
    a CI log) complete lines, so that tables are never cut to 80 columns nor wrapped."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPED_WIDTH, soft_wrap=True)


def profile_table(targets: list[Target], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("#", "target", "share", "own s", "cum s", "calls", "CC", "effort", "MI"):
        table.add_column(column, justify="left" if column == "target" else "right", overflow="fold")
    for number, target in enumerate(targets, 1):
        p, m = target.profile, target.metrics
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
        )
    return table


def results_table(report: RunReport) -> Table:
    table = Table(title="Candidates", title_justify="left")
    levels = {o.verdict.timing.level for o in report.outcomes if o.verdict.timing}
    interval = f"{levels.pop()} CI" if len(levels) == 1 else "CI"
    columns = ("target", "candidate", "strategy", "verdict", "speedup", interval, "1st call")
    for column in (*columns, "detail"):
        numeric = column in ("speedup", interval, "1st call")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for o in report.outcomes:
        timing = o.verdict.timing
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
            _CHANGE_MARKUP[fmt.change(confirmed.speedup)],
            fmt.times(confirmed.speedup),
            fmt.MISSING,
            fmt.MISSING,
            f"base against result, {confirmed.runs} runs each alternating: {how}",
        )
    return table


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
        console.print("[bold]No change was committed[/]: nothing was proven faster and correct.")

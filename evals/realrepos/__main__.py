"""``python -m evals.realrepos``: run the real-repo benchmark (see README.md here)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from evals.realrepos import tables
from evals.realrepos.fetch import default_cache
from evals.realrepos.manifest import MANIFEST, ManifestError, load_manifest, select
from evals.realrepos.runner import BenchmarkError, Settings, run_benchmark

app = typer.Typer(add_completion=False, rich_markup_mode=None)


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="Results; rerun with the same to resume.")],
    provider: Annotated[
        str, typer.Option(help="rules, neutral (the judgeability probe) or any Evolver provider.")
    ] = "rules",
    repos: Annotated[
        str | None, typer.Option(help="Comma-separated names from the manifest (default: all).")
    ] = None,
    max_targets: Annotated[
        int | None, typer.Option("--max-targets", help="Targets per repo (Evolver's default: 5).")
    ] = None,
    confirm: Annotated[
        bool, typer.Option(help="Time the whole result against the base (evolver's confirm).")
    ] = False,
    evolver_args: Annotated[
        str, typer.Option("--evolver-args", help="More options for `evolver run`, as one string.")
    ] = "",
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per `evolver run` (default: no limit).")
    ] = None,
    manifest: Annotated[Path, typer.Option(help="The list of pinned sdists.")] = MANIFEST,
    cache: Annotated[
        Path | None, typer.Option(help="Where sdists are kept, by hash (default: ~/.cache).")
    ] = None,
) -> None:
    console = Console(stderr=True)
    try:
        names = [name.strip() for name in repos.split(",") if name.strip()] if repos else None
        specs = select(load_manifest(manifest), names)
    except ManifestError as error:
        console.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    settings = Settings(
        provider=provider,
        out=out,
        cache=cache or default_cache(),
        max_targets=max_targets,
        confirm=confirm,
        evolver_args=tuple(shlex.split(evolver_args)),
        python=sys.executable,
        timeout=timeout,
    )

    def done(record: dict[str, Any]) -> None:
        state = record["status"] if record["status"] != "ok" else "done"
        console.print(f"{record['repo']}: {state} ({record['wall_seconds']} s)", markup=False)

    try:
        summary = run_benchmark(specs, settings, done)
    except BenchmarkError as error:
        console.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    shown = Console(width=None if sys.stdout.isatty() else 200)  # piped: whole lines
    shown.print(tables.rich_table(summary))
    for record in summary["repos"]:
        if record["per_target"]:
            shown.print(tables.rich_targets(record))
    shown.print(f"summary: {out / 'summary.md'}", markup=False)
    if summary["totals"]["broken_commits"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()

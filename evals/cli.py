"""``evolver eval`` and ``evolver eval compare``: score a provider on the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.cli.options import Flags, flag_names, shared, takes, varied
from agent.config import load_config
from agent.errors import UsageError
from agent.reports import format as fmt
from evals import tables
from evals.compare import compare as compare_runs
from evals.corpus import TASKS_DIR, Task, load_tasks
from evals.executors import make_executor
from evals.results import load_run

app = typer.Typer(
    help="Score a provider on the corpus of optimization tasks.",
    invoke_without_command=True,
    rich_markup_mode=None,
)


# The run settings an eval passes on to every task's run.
EVAL_OPTIONS = (
    *shared("model", "base_url", "rounds", "candidates", "temperature", "seed", "strategies"),
    *shared("max_tokens", "max_prompt_tokens", "timing_budget", "min_time"),
    varied("budget_usd", "Most to spend per task."),
)


@app.callback()
@takes(EVAL_OPTIONS)
def evaluate(
    context: typer.Context,
    provider: Annotated[
        str, typer.Option(help="rules, openai, anthropic, local, oracle (the reference) or replay.")
    ] = "rules",
    tasks: Annotated[str, typer.Option("--tasks", help="Glob over task names.")] = "*",
    tasks_dir: Annotated[
        Path, typer.Option("--tasks-dir", help="Where the tasks are.")
    ] = TASKS_DIR,
    jobs: Annotated[int, typer.Option(help="Tasks at once.", min=1, max=64)] = 1,
    executor: Annotated[str, typer.Option(help="local (processes) or ray.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="A Ray cluster (default: a local one).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results (rerun with the same to resume).")] = Path(
        "eval-out"
    ),
    replies: Annotated[
        Path | None,
        typer.Option(help="With --provider replay: a directory of <task>.jsonl reply logs."),
    ] = None,
    *,
    flags: Flags,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Show progress on stderr.")
    ] = None,
) -> None:
    """Run the agent on every task, then score what it committed: hidden tests, the speedup
    re-timed by the harness, tokens, cost and time. Writes results.json, results.md and
    chart.svg to --out."""
    if context.invoked_subcommand is not None:
        return
    if provider == "replay" and replies is None:
        raise UsageError("--provider replay needs --replies DIR (the reply logs of a model run)")
    if replies is not None and not replies.is_dir():
        raise UsageError(f"--replies {replies}: not a directory")
    options = {field: value for field, value in flags.items() if value is not None}
    # Checked here, once, rather than failing in every task's worker.
    load_config(Path.cwd(), None, options, flag_names(EVAL_OPTIONS))
    # Here, not at the top: the agent's loop loads only for the command that runs it.
    from evals.harness import run_eval
    from evals.run_task import EvalSettings

    chosen = load_tasks(tasks, tasks_dir)
    settings = EvalSettings(
        provider,
        options,
        replies_dir=replies.resolve() if replies else None,
        record_dir=(out / "replies").resolve(),
    )
    run_on = make_executor(executor, jobs, ray_address)
    console = Console(stderr=True)
    shown = console.is_terminal if progress is None else progress
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not shown,
    ) as bar:
        counter = bar.add_task(f"eval {provider}", total=len(chosen))

        def done(task: Task, result: dict[str, Any]) -> None:
            bar.advance(counter)
            if shown:
                bar.console.print(_line(result))

        run = run_eval(chosen, settings, run_on, out, done)
    Console().print(tables.markdown(run), markup=False, highlight=False)
    print(f"results: {out / 'results.json'}, {out / 'results.md'}, {out / 'chart.svg'}")


@app.command()
def compare(
    first: Annotated[Path, typer.Argument(help="results.json of one eval.")],
    second: Annotated[Path, typer.Argument(help="results.json of another.")],
) -> None:
    """Two evals side by side, task by task, with the differences."""
    runs = [_read(path) for path in (first, second)]
    table, _ = compare_runs(*runs)
    Console().print(table)


def _read(path: Path) -> dict[str, Any]:
    try:
        return load_run(path)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _line(result: dict[str, Any]) -> str:
    if result["status"] != "ok":
        return f"  {result['task']}: error: {result['error']}"
    if not result["committed"]:
        return f"  {result['task']}: nothing committed"
    if "memory_ratio" in result:  # a task scored on memory
        return (
            f"  {result['task']}: {fmt.times(result['memory_ratio'])} less peak memory "
            f"(claimed {result.get('claimed_memory_ratio')}×), speedup "
            f"{fmt.times(result['speedup'])}, hidden tests {result['hidden_tests']}"
        )
    return (
        f"  {result['task']}: {fmt.times(result['speedup'])} "
        f"(claimed {result['claimed_speedup']}×), "
        f"hidden tests {result['hidden_tests']}"
    )

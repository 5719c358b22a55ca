"""The command line: ``evolver run``, ``profile``, ``prompt``; ``history``, ``show`` and
``report`` (agent/cli/history.py); ``pr``, ``watch`` and ``rollback`` (agent/cli/ship.py);
``eval`` (evals/cli.py). The run settings they take as options are declared once, in
agent/cli/options.py.

Exit codes are a contract: 0 the run completed (improvement or not); 2 bad input or usage,
one line on stderr, nothing changed; 1 internal failure, nothing lost; 130 interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer

from agent.cli import history as cli_history
from agent.cli import ship as cli_ship
from agent.cli.options import PROFILE_OPTIONS, PROMPT_OPTIONS, RUN_OPTIONS, Flags, takes
from agent.cli.ship import PublishOptions
from agent.errors import UsageError
from evals.cli import app as eval_app

app = typer.Typer(
    name="evolver",
    help="Make Python code faster by itself, safely.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

RepoArg = Annotated[Path, typer.Argument(help="A git repository (only read; never modified).")]

ProgressOpt = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        help="Show progress on stderr: timed lines on a terminal, plain lines otherwise "
        "(a CI log, a file).",
    ),
]


@app.command()
@takes(RUN_OPTIONS, publish=PublishOptions)
def run(
    repo: RepoArg,
    flags: Flags,
    *,
    resume: Annotated[
        int | None,
        typer.Option("--resume", help="Resume the interrupted run with this history ID."),
    ] = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Keep no record in REPO/.evolver/.")
    ] = False,
    pr: Annotated[
        bool, typer.Option("--pr", help="Push the result and open or update a pull request.")
    ] = False,
    publish: PublishOptions,
    progress: ProgressOpt = True,
) -> None:
    """Profile REPO, propose faster versions of its hottest functions, verify them, and
    commit the winners to a new branch."""
    from agent.cli import evolve

    evolve.run(
        repo, flags, resume=resume, no_history=no_history, pr=pr, publish=publish,
        progress=progress,
    )  # fmt: skip


@app.command()
@takes(PROFILE_OPTIONS)
def profile(repo: RepoArg, flags: Flags) -> None:
    """Show where REPO's workload spends its time, ranked as `run` would take it."""
    from agent.cli import evolve

    evolve.profile(repo, flags)


@app.command()
@takes(PROMPT_OPTIONS)
def prompt(
    repo: RepoArg,
    flags: Flags,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="The strategy asked for (default: the first candidate's), or 'single' for the "
            "prompt that offers them all."
        ),
    ] = None,
) -> None:
    """Show the prompt a model would get for a target, with tokens per section."""
    from agent.cli import evolve

    evolve.prompt(repo, flags, strategy)


app.command()(cli_history.history)
app.command()(cli_history.show)
app.command()(cli_history.report)
app.command()(cli_ship.pr)
app.command()(cli_ship.watch)
app.command()(cli_ship.rollback)
app.add_typer(eval_app, name="eval")


def _fail(code: int, message: str) -> NoReturn:
    print(f"evolver: {message}", file=sys.stderr)
    raise SystemExit(code)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwind like Ctrl-C: sandboxes are killed, scratch removed


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    try:
        code = app(args=argv, standalone_mode=False)
    except UsageError as error:
        _fail(2, f"error: {error}")
    except typer.TyperException as error:  # bad flags and arguments
        _fail(2, f"error: {error.format_message()}")
    except (KeyboardInterrupt, typer.Abort):
        _fail(130, "interrupted; your repository is unchanged")
    except Exception as error:
        if os.environ.get("EVOLVER_DEBUG"):
            traceback.print_exc()
        _fail(1, f"internal error: {type(error).__name__}: {error}")
    if code == 130:  # typer turns KeyboardInterrupt into this exit code
        _fail(130, "interrupted; your repository is unchanged")
    raise SystemExit(code if isinstance(code, int) else 0)

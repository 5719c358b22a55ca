"""The command line: ``evolver run``, ``profile``, ``prompt``; ``history``, ``show`` and
``report`` (agent/cli/history.py); ``pr``, ``watch`` and ``rollback`` (agent/cli/ship.py);
``eval`` (evals/cli.py).

Exit codes are a contract: 0 the run completed (improvement or not); 2 bad input or usage,
one line on stderr, nothing changed; 1 internal failure, nothing lost; 130 interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent import loop
from agent.cli import history as cli_history
from agent.cli import ship as cli_ship
from agent.cli.history import open_store, resume_point
from agent.cli.ship import (
    DraftOpt,
    GitHubRepoOpt,
    GitHubUrlOpt,
    MemoryOpt,
    PrBaseOpt,
    PrBranchOpt,
    RemoteOpt,
    open_pull_request,
    pr_settings_from,
)
from agent.config import RunConfig, load_config
from agent.domain import Outcome
from agent.errors import UsageError
from agent.profile.profiling import Profile, profile_workload
from agent.profile.recording import record_calls
from agent.project.runner import Project, open_project
from agent.project.workspace import Workspace, limits_of
from agent.providers import make_provider
from agent.providers.prompting import PromptBudgetError, PromptContext, build_prompt
from agent.providers.strategies import Strategy, assign, by_name, strategies
from agent.providers.usage import Ledger
from agent.rank.ranking import make_target, rank
from agent.record import gitops
from agent.record.store import RunJournal
from agent.reports.terminal import (
    print_summary,
    profile_table,
    report_json,
    results_console,
    target_json,
    write_json,
)
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
WorkloadOpt = Annotated[
    str | None, typer.Option("--workload", help="Shell command to profile (default: benchmarks).")
]
TestOpt = Annotated[
    str | None,
    typer.Option("--test-command", help="Command that runs the tests (default: pytest)."),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write a JSON report here.")]
PythonOpt = Annotated[
    str | None,
    typer.Option(
        "--python",
        help="The project's Python interpreter (default: the repo's .venv or venv, else the "
        "active virtual environment, else Evolver's own)",
    ),
]


ProgressOpt = Annotated[
    bool,
    typer.Option(
        "--progress/--no-progress",
        help="Show progress on stderr: timed lines on a terminal, plain lines otherwise "
        "(a CI log, a file).",
    ),
]


class ConsoleObserver:
    """Progress lines on stderr, so that stdout stays the results alone: on a terminal with
    the time, elsewhere (a CI log) plain whole lines, no colour, no cursor movement."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled

    @classmethod
    def on_stderr(cls, enabled: bool) -> ConsoleObserver:
        terminal = Console(stderr=True).is_terminal
        return cls(Console(stderr=True, log_path=False, log_time=terminal), enabled)

    def step(self, message: str) -> None:
        self._line(escape(message))

    def outcome(self, outcome: Outcome) -> None:
        v = outcome.verdict
        mark = "[green]✓[/]" if v.accepted else "[red]✗[/]"
        said = escape(f"{outcome.candidate.summary}: {v.stage}: {v.reason}")  # may hold [...]
        self._line(f"  {mark} {said}")

    def _line(self, text: str) -> None:
        if not self.enabled:
            return
        if self.console.is_terminal:
            self.console.log(text)
        else:
            self.console.print(text, soft_wrap=True, highlight=False)


def _from_here(python: str | None) -> str | None:
    """A ``--python`` path is relative to where the command runs (in ``[tool.evolver]``, to
    the repo); a bare name (``python3.12``) is looked up on PATH."""
    return str(Path(python).absolute()) if python and "/" in python else python


def _config(repo: Path, flags: dict[str, Any]) -> RunConfig:
    repo = repo.resolve()
    git_repo = gitops.open_repo(repo)
    base = gitops.resolve(git_repo, flags.get("base") or "HEAD")
    pyproject = gitops.read_file(git_repo, base, "pyproject.toml")
    return load_config(repo, pyproject, flags)


@app.command()
def run(
    repo: RepoArg,
    target: Annotated[
        list[str] | None, typer.Option("--target", help="FILE::QUALNAME; repeatable.")
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(
            help="rules (offline), openai, anthropic, local (a GGUF model) or replay (--replies)."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name for an LLM provider.")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server URL.")
    ] = None,
    candidates: Annotated[int | None, typer.Option(help="Candidates per target and round.")] = None,
    rounds: Annotated[
        int | None, typer.Option(help="Rounds per target, each learning from the last.")
    ] = None,
    max_targets: Annotated[
        int | None, typer.Option("--max-targets", help="Targets to try.")
    ] = None,
    min_speedup: Annotated[
        float | None, typer.Option("--min-speedup", help="Lower CI bound to accept.")
    ] = None,
    float_tolerance: Annotated[
        float | None,
        typer.Option("--float-tolerance", help="Relative difference allowed in float results."),
    ] = None,
    strict_behaviour: Annotated[
        bool | None,
        typer.Option(
            "--strict-behaviour/--no-strict-behaviour",
            help="Reject a change that differs from the original on probes (inputs of shapes "
            "no real call or test used), instead of showing it as a risk.",
        ),
    ] = None,
    check_timeout: Annotated[
        float | None,
        typer.Option("--check-timeout", help="Seconds per import, behaviour or timing check."),
    ] = None,
    timing_budget: Annotated[
        float | None,
        typer.Option(
            "--timing-budget",
            help="Seconds a candidate's timing may take to decide (more processes while its "
            "interval straddles the bar; default 20).",
        ),
    ] = None,
    memory_mb: Annotated[
        int | None,
        typer.Option("--memory-mb", help="Memory for each sandboxed command, in MiB."),
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Result branch (default evolver/<UTC time>).")
    ] = None,
    json_path: JsonOpt = None,
    jobs: Annotated[int | None, typer.Option(help="Candidates verified in parallel.")] = None,
    workload: WorkloadOpt = None,
    test_command: TestOpt = None,
    temperature: Annotated[float | None, typer.Option(help="Model sampling temperature.")] = None,
    strategies: Annotated[
        str | None,
        typer.Option(
            help="varied: each candidate asked for another optimization strategy (algorithm, "
            "data structure, builtins, repeated work, caching, parallel); single: every "
            "candidate offered them all.",
        ),
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Most tokens per model reply.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds per model request.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Sampling seed, where the model takes one.")
    ] = None,
    budget_usd: Annotated[
        float | None,
        typer.Option("--budget-usd", help="Stop asking the model once this much is spent."),
    ] = None,
    no_confirm: Annotated[
        bool,
        typer.Option("--no-confirm", help="Skip timing the whole result against the base."),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ask the model again, ignoring cached replies.")
    ] = False,
    model_path: Annotated[
        Path | None, typer.Option("--model-path", help="GGUF file for --provider local.")
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="NAME=value lines with API keys.")
    ] = None,
    record_replies: Annotated[
        Path | None,
        typer.Option("--record-replies", help="Append the model's replies to this JSONL file."),
    ] = None,
    replies: Annotated[
        Path | None,
        typer.Option("--replies", help="Replies recorded earlier, for --provider replay."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="Commit, branch or tag to evolve (default: HEAD)."),
    ] = None,
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
    remote: RemoteOpt = "origin",
    github_url: GitHubUrlOpt = None,
    github_repo: GitHubRepoOpt = None,
    pr_branch: PrBranchOpt = None,
    pr_base: PrBaseOpt = None,
    draft: DraftOpt = False,
    progress: ProgressOpt = True,
    python: PythonOpt = None,
    max_prompt_tokens: Annotated[
        int | None,
        typer.Option("--max-prompt-tokens", help="Most tokens in a prompt to a model."),
    ] = None,
    context_window: Annotated[
        int | None,
        typer.Option("--context-window", help="The model's context window, in tokens."),
    ] = None,
) -> None:
    """Profile REPO, propose faster versions of its hottest functions, verify them, and
    commit the winners to a new branch."""
    if resume is not None and no_history:
        raise UsageError("--resume needs the history; drop --no-history")
    if pr and no_history:
        raise UsageError("--pr records the pull request in the history; drop --no-history")
    pr_settings = (
        pr_settings_from(remote, github_url, github_repo, pr_branch, pr_base, draft) if pr else None
    )
    flags: dict[str, Any] = {
        "base": base,
        "targets": tuple(target or ()),
        "provider": provider,
        "model": model,
        "base_url": base_url,
        "candidates": candidates,
        "rounds": rounds,
        "max_targets": max_targets,
        "min_speedup": min_speedup,
        "float_tolerance": float_tolerance,
        "strict_behaviour": strict_behaviour,
        "check_timeout": check_timeout,
        "timing_budget": timing_budget,
        "memory_mb": memory_mb,
        "branch": branch,
        "json_path": json_path,
        "jobs": jobs,
        "workload": workload,
        "test_command": test_command,
        "temperature": temperature,
        "strategies": strategies,
        "max_tokens": max_tokens,
        "request_timeout": timeout,
        "seed": seed,
        "budget_usd": budget_usd,
        "cache": False if no_cache else None,
        "confirm": False if no_confirm else None,
        "key_file": key_file,
        "model_path": model_path,
        "record_replies": record_replies,
        "replies": replies,
        "python": _from_here(python),
        "max_prompt_tokens": max_prompt_tokens,
        "context_window": context_window,
    }
    store = None if no_history else open_store(repo)
    point = None
    if resume is not None:
        assert store is not None
        point, flags = resume_point(store, resume, flags)
    config = _config(repo, flags)
    ledger = Ledger(config.budget_usd, config.prices)
    source = make_provider(config, ledger)
    observer = ConsoleObserver.on_stderr(progress)
    journal = None
    if store is not None:
        settings = config.model_dump(mode="json", exclude={"repo", "json_path"})
        journal = RunJournal(store, settings, point.run_id if point else None)
    try:
        report = loop.run(config, source, observer, journal, point)
    except BaseException:
        if journal is not None and journal.run_id is not None:
            journal.store.interrupted(journal.run_id)
        raise
    report.usage = ledger.summary()
    if journal is not None:
        journal.end(report)  # with the model's tokens and cost, which the loop does not know
    out = results_console()
    if report.targets:
        out.print(profile_table(report.targets, "Targets"))
    print_summary(out, report)
    if report.run_id is not None:
        out.print(
            f"[dim]history: run {report.run_id} (evolver history -C {repo}; "
            f"evolver report {report.run_id} -C {repo})[/]"
        )
    if config.json_path:
        write_json(report, config.json_path)
    if store is not None:
        with store:
            if pr_settings is not None:
                open_pull_request(out, store, config.repo, report_json(report), pr_settings)


@app.command()
def profile(
    repo: RepoArg,
    workload: WorkloadOpt = None,
    test_command: TestOpt = None,
    max_targets: Annotated[int, typer.Option("--max-targets", help="Rows to show.")] = 20,
    json_path: JsonOpt = None,
    python: PythonOpt = None,
    memory_mb: MemoryOpt = None,
) -> None:
    """Show where REPO's workload spends its time, ranked as `run` would take it."""
    flags = {"workload": workload, "test_command": test_command, "max_targets": max_targets,
             "python": _from_here(python), "memory_mb": memory_mb}  # fmt: skip
    config = _config(repo, flags)
    with _profiled_head(config) as (workspace, _, measured):
        targets = rank(workspace.state, measured.functions, config.max_targets)
    title = f"Hot functions ({measured.workload}, {measured.total_time:.2f}s profiled)"
    results_console().print(profile_table(targets, title))
    if json_path:
        data = {
            "version": 1,
            "repo": str(config.repo),
            "workload": measured.workload,
            "total_time": measured.total_time,
            "targets": [target_json(t) for t in targets],
        }
        json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _profiled_head(config: RunConfig) -> Iterator[tuple[Workspace, Project, Profile]]:
    """A private export of HEAD, the project, and the profile of its workload (for commands
    that only look)."""
    git_repo = gitops.open_repo(config.repo)
    head = git_repo.head.commit.hexsha
    with Workspace.for_commit(git_repo, head, limits_of(config)) as workspace:
        project = open_project(config, workspace)
        with _working("profiling the workload"), workspace.sandbox("profile") as sandbox:
            measured = profile_workload(project, sandbox)
        yield workspace, project, measured


@contextmanager
def _working(message: str) -> Iterator[None]:
    """A spinner on a terminal; elsewhere one plain line on stderr."""
    err = Console(stderr=True)
    if err.is_terminal:
        with err.status(message):
            yield
    else:
        err.print(message, soft_wrap=True, highlight=False, markup=False)
        yield


def _prompt_strategy(name: str | None) -> tuple[Strategy | None, tuple[Strategy, ...]]:
    """The strategy a prompt asks for, or none and all of them offered (``single``)."""
    if name == "single":
        return None, strategies()
    chosen = assign(0, 1)[0] if name is None else by_name(name)
    if chosen is None:
        known = ", ".join(s.name for s in strategies())
        raise UsageError(f"--strategy {name}: not a strategy (known: {known}, or single)")
    return chosen, ()


@app.command()
def prompt(
    repo: RepoArg,
    target: Annotated[
        str | None, typer.Option("--target", help="FILE::QUALNAME (default: the hottest).")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model whose tokenizer counts.")] = None,
    workload: WorkloadOpt = None,
    test_command: TestOpt = None,
    python: PythonOpt = None,
    max_prompt_tokens: Annotated[
        int | None, typer.Option("--max-prompt-tokens", help="Most tokens in the prompt.")
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="The strategy asked for (default: the first candidate's), or 'single' for the "
            "prompt that offers them all."
        ),
    ] = None,
    memory_mb: MemoryOpt = None,
) -> None:
    """Show the prompt a model would get for a target, with tokens per section."""
    asked, offered = _prompt_strategy(strategy)
    flags = {"workload": workload, "test_command": test_command, "model": model,
             "targets": (target,) if target else (), "python": _from_here(python),
             "max_prompt_tokens": max_prompt_tokens, "memory_mb": memory_mb}  # fmt: skip
    config = _config(repo, flags)
    with _profiled_head(config) as (workspace, project, measured):
        chosen = [make_target(workspace.state, ref, None) for ref in config.targets]
        ranked = loop.select_targets(config, workspace, measured, chosen)
        if not ranked:
            raise UsageError("the profile shows no function worth optimizing")
        hot = ranked[0]
        with workspace.sandbox("record") as sandbox:
            tests = record_calls(project, sandbox, [hot.ref])[hot.ref].tests
        source = (workspace.state / hot.ref.path).read_text(encoding="utf-8")
        context = PromptContext(
            hot, source, workspace.state, tuple(sorted(tests)), (),
            strategy=asked, strategies=offered,
        )  # fmt: skip
        try:
            built = build_prompt(
                context, model=config.model, max_prompt_tokens=config.max_prompt_tokens
            )
        except PromptBudgetError as error:
            raise UsageError(f"{error} (raise --max-prompt-tokens)") from None
    out = results_console()
    for message in built.messages:
        if out.is_terminal:
            out.rule(message["role"])
        else:
            out.print(f"--- {message['role']} ---", markup=False, highlight=False)
        out.print(message["content"], markup=False, highlight=False)
    table = Table(title=f"Tokens per section{' (estimated)' if built.estimated else ''}")
    table.add_column("section")
    table.add_column("tokens", justify="right")
    for section, tokens in built.sections.items():
        table.add_row(section, str(tokens))
    table.add_row("total (with message overhead)", str(built.tokens))
    out.print(table)
    if built.dropped:
        out.print(f"dropped to fit {config.max_prompt_tokens} tokens: {', '.join(built.dropped)}")


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

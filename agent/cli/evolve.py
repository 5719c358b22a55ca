"""What ``evolver run``, ``profile`` and ``prompt`` do; their options are declared with the
commands in agent/cli/main.py, which imports this module only when one of them runs, so that
the loop's modules (libcst, the rules, the verifier) load only for the commands that use them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent import loop
from agent.cli.history import open_store, resume_point
from agent.cli.options import RUN_OPTIONS, Flags, flag_names
from agent.cli.ship import PublishOptions, open_pull_request
from agent.config import RunConfig, load_config
from agent.domain import Outcome
from agent.errors import UsageError
from agent.profile.memory import profile_memory, with_memory
from agent.profile.profiling import Profile, profile_workload
from agent.profile.recording import record_calls
from agent.project.runner import Project, open_project
from agent.project.workspace import Workspace, limits_of
from agent.providers import make_provider
from agent.providers.prompting import (
    PromptBudgetError,
    PromptContext,
    build_prompt,
    unit_in_view,
)
from agent.providers.strategies import Strategy, assign, by_name, strategies
from agent.providers.usage import Ledger
from agent.rank.ranking import make_target, rank
from agent.record import gitops
from agent.record.store import RunJournal
from agent.reports.model import Report, target_json, write_json
from agent.reports.terminal import print_summary, profile_table, results_console


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


def run_config(repo: Path, flags: Flags) -> RunConfig:
    """The run's settings: the flags, then ``[tool.evolver]`` of the commit to evolve."""
    repo = repo.resolve()
    git_repo = gitops.open_repo(repo)
    base = gitops.resolve(git_repo, str(flags.get("base") or "HEAD"))
    pyproject = gitops.read_file(git_repo, base, "pyproject.toml")
    return load_config(repo, pyproject, flags, flag_names(RUN_OPTIONS))


def run(
    repo: Path,
    flags: Flags,
    *,
    resume: int | None,
    no_history: bool,
    pr: bool,
    publish: PublishOptions,
    progress: bool,
) -> None:
    """``evolver run``: profile, propose, verify, commit; report and record."""
    if resume is not None and no_history:
        raise UsageError("--resume needs the history; drop --no-history")
    if pr and no_history:
        raise UsageError("--pr records the pull request in the history; drop --no-history")
    pr_settings = publish.settings() if pr else None
    store = None if no_history else open_store(repo)
    point = None
    if resume is not None:
        assert store is not None
        point, flags = resume_point(store, resume, flags)
    config = run_config(repo, flags)
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
                open_pull_request(out, store, config.repo, Report.from_run(report), pr_settings)


def profile(repo: Path, flags: Flags) -> None:
    """``evolver profile``: the ranked table of the workload's hot functions."""
    config = run_config(repo, flags)
    with _profiled_head(config) as (workspace, _, measured):
        targets = rank(workspace.state, measured.functions, config.max_targets, config.objective)
    title = f"Hot functions ({measured.workload}, {measured.total_time:.2f}s profiled)"
    results_console().print(profile_table(targets, title))
    if config.json_path:
        data = {
            "version": 1,
            "repo": str(config.repo),
            "workload": measured.workload,
            "total_time": measured.total_time,
            "targets": [target_json(t) for t in targets],
        }
        config.json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


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
        if config.objective != "time":
            with _working("tracing the workload's memory"), workspace.sandbox("memory") as box:
                memory, notes = profile_memory(project, box)
            measured = with_memory(measured, memory)
            for note in notes:
                Console(stderr=True).print(f"note: {note}", markup=False, highlight=False)
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


def _prompt_strategy(
    name: str | None, objective: str
) -> tuple[Strategy | None, tuple[Strategy, ...]]:
    """The strategy a prompt asks for, or none and all of them offered (``single``)."""
    if name == "single":
        return None, strategies(objective)
    chosen = assign(0, 1, objective=objective)[0] if name is None else by_name(name)
    if chosen is None:
        known = ", ".join(s.name for s in strategies(objective))
        raise UsageError(f"--strategy {name}: not a strategy (known: {known}, or single)")
    return chosen, ()


def prompt(repo: Path, flags: Flags, strategy: str | None) -> None:
    """``evolver prompt``: the prompt a model would get, with tokens per section."""
    config = run_config(repo, flags)
    asked, offered = _prompt_strategy(strategy, config.objective)
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
            strategy=asked, strategies=offered, objective=config.objective,
            unit=unit_in_view(source, hot.ref.qualname, config.objective),
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

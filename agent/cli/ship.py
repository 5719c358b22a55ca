"""``evolver pr``, ``watch`` and ``rollback``: getting proven changes to where they count.

Registered on the app by ``agent.cli.main``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agent.cli.history import RepoOpt, open_store, stored_run
from agent.cli.options import WATCH_OPTIONS, Flags, flag_names, takes
from agent.config import WatchConfig, load_config, load_watch_config
from agent.errors import UsageError
from agent.project.interpreter import find_python
from agent.project.runner import project_for
from agent.project.workspace import limits_of
from agent.record import gitops
from agent.record.store import Store
from agent.reports.model import Report
from agent.ship.health import MeasureFailed
from agent.ship.pullrequest import PullRequestSettings, publish
from agent.ship.watch import Cycle, Watcher, revert

RemoteOpt = Annotated[str, typer.Option("--remote", help="The git remote to push to.")]
GitHubUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--github-url",
        help="GitHub's API (default: $GITHUB_API_URL or api.github.com; Enterprise: "
        "https://HOST/api/v3).",
    ),
]
GitHubRepoOpt = Annotated[
    str | None,
    typer.Option("--github-repo", help="OWNER/NAME (default: from the remote's URL)."),
]
PrBranchOpt = Annotated[
    str | None,
    typer.Option("--pr-branch", help="The remote branch to push (default: evolver/<base>)."),
]
PrBaseOpt = Annotated[
    str | None,
    typer.Option("--pr-base", help="The branch to merge into (default: the repo's default)."),
]
DraftOpt = Annotated[bool, typer.Option("--draft", help="Open the pull request as a draft.")]


@dataclass(frozen=True)
class PublishOptions:
    """Where and how ``evolver pr`` and ``evolver run --pr`` publish (typer options, through
    ``takes``)."""

    remote: RemoteOpt = "origin"
    github_url: GitHubUrlOpt = None
    github_repo: GitHubRepoOpt = None
    pr_branch: PrBranchOpt = None
    pr_base: PrBaseOpt = None
    draft: DraftOpt = False

    def settings(self) -> PullRequestSettings:
        """Checked before a run starts, so that a missing token fails at once, not after it."""
        return PullRequestSettings.from_env(
            remote=self.remote,
            api_url=self.github_url,
            slug=self.github_repo,
            head_branch=self.pr_branch,
            base_branch=self.pr_base,
            draft=self.draft,
        )


def open_pull_request(
    out: Console, store: Store, repo: Path, report: Report, settings: PullRequestSettings
) -> None:
    if not report.branch:
        out.print("No pull request: nothing was committed.")
        return
    result = publish(repo, report, settings)
    store.event(
        "pr",
        {
            "number": result.number,
            "url": result.url,
            "created": result.created,
            "summary": result.describe(),
        },
        run_id=report.run_id,
        branch=result.head_branch,
        commit=result.pushed_commit,
    )
    out.print(result.describe())


@takes(publish=PublishOptions)
def pr(
    run: Annotated[int | None, typer.Argument(help="A run (default: the latest).")] = None,
    repo: RepoOpt = Path("."),
    *,
    publish: PublishOptions,
) -> None:
    """Push a run's result branch and open a pull request, or update Evolver's open one."""
    settings = publish.settings()
    with open_store(repo) as store:
        run_id = store.latest_run() if run is None else run
        report = stored_run(store, run_id)
        if not report.branch:
            raise UsageError(f"run {run_id} committed nothing; there is nothing to propose")
        open_pull_request(Console(), store, repo, report, settings)


def rollback(
    candidate: Annotated[int, typer.Argument(help="A committed candidate's ID (see history).")],
    repo: RepoOpt = Path("."),
    branch: Annotated[
        str | None,
        typer.Option("--branch", help="Revert it on this branch (default: where it landed)."),
    ] = None,
) -> None:
    """Revert a change Evolver made (`git revert` on the branch it is on), and record it."""
    with open_store(repo) as store:
        found = store.candidate(candidate)
        if found["decision"] != "committed":
            raise UsageError(f"candidate {candidate} was {found['decision']}, never committed")
        git_repo = gitops.open_repo(repo.resolve())
        landing = _landing_of(store, candidate, branch)
        undone = [e for e in store.events(kind="revert") if e["candidate_id"] == candidate]
        if landing is None and undone:
            raise UsageError(f"candidate {candidate} was already reverted ({undone[-1]['commit']})")
        if landing is None:
            where = branch or store.run(found["run_id"]).branch
            landing = {
                "id": None,
                "commit": found["commit"],
                "run_id": found["run_id"],
                "candidate_id": candidate,
                "branch": where,
                "detail": {"target": found["target"], "summary": found["summary"]},
            }
        on = branch or landing["branch"]
        tip = gitops.branch_tip(git_repo, on)
        if not gitops.is_ancestor(git_repo, landing["commit"], tip):
            raise UsageError(f"commit {landing['commit'][:10]} is not on branch {on!r}")
        try:
            done = revert(git_repo, store, landing, on, "by hand")
        except gitops.BranchMoved as error:
            raise UsageError(str(error)) from None
        except Exception as error:  # a conflict: the branch is as it was
            raise UsageError(f"git revert {landing['commit'][:10]} failed on {on!r}") from error
    Console().print(f"reverted {landing['commit'][:10]} on {on}: {done['commit'][:10]}")


def _landing_of(store: Store, candidate: int, branch: str | None) -> dict[str, Any] | None:
    reverted = {e["detail"].get("land_event") for e in store.events(kind="revert")}
    for event in reversed(store.events(kind="land")):
        if event["candidate_id"] != candidate or event["id"] in reverted:
            continue
        if branch is None or event["branch"] == branch:
            return event
    return None


@takes(WATCH_OPTIONS)
def watch(
    repo: Annotated[Path, typer.Argument(help="A git repository.")] = Path("."),
    branch: Annotated[
        str | None, typer.Option("--branch", help="The branch to keep fast (not checked out).")
    ] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", help="Seconds between cycles.")
    ] = None,
    cycles: Annotated[
        int | None, typer.Option("--cycles", help="Stop after this many cycles.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One cycle (for cron or CI).")] = False,
    provider: Annotated[str | None, typer.Option(help="The evolutions' provider.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per cycle.")] = False,
    *,
    flags: Flags,
) -> None:
    """Measure a branch at an interval; evolve when its metrics slip or commits land; land
    what the risk policy allows; revert a landed change that made things worse."""
    git_repo = gitops.open_repo(repo.resolve())
    watch_flags = {"branch": branch, "interval": interval, "provider": provider}
    # The settings are the watched branch's own; which branch that is, --branch or HEAD's say.
    if branch is None:
        head = gitops.read_file(git_repo, git_repo.head.commit.hexsha, "pyproject.toml")
        branch = load_watch_config(head, watch_flags).branch
    pyproject = gitops.read_file(git_repo, gitops.branch_tip(git_repo, branch), "pyproject.toml")
    settings = load_watch_config(pyproject, watch_flags)
    run = load_config(repo.resolve(), pyproject, flags, flag_names(WATCH_OPTIONS))
    # The project's own interpreter (its venv, [tool.evolver] python): watch.py's workspaces
    # must show project.readable to their sandboxes.
    project = project_for(find_python(run.repo, run.python), run)
    total = 1 if once else cycles
    err = Console(stderr=True)
    out = Console()
    with open_store(repo) as store:
        watcher = Watcher(repo, settings, store, project, limits_of(run), step=lambda m: err.log(m))
        number = 0
        while total is None or number < total:
            if number:
                time.sleep(settings.interval)
            number += 1
            try:
                cycle = watcher.cycle()
            except MeasureFailed as error:  # the project's commands, not Evolver, failed
                raise UsageError(str(error)) from None
            if as_json:
                print(json.dumps(_cycle_json(number, cycle)), flush=True)
            else:
                out.print(_cycle_table(number, cycle, settings))


def _cycle_json(number: int, cycle: Cycle) -> dict[str, Any]:
    return {
        "cycle": number,
        "commit": cycle.commit,
        "after": cycle.after,
        "health": round(cycle.health.score, 2),
        "breaches": list(cycle.health.breaches),
        "regressions": cycle.regressions,
        "metrics": cycle.metrics,
        "previous": cycle.previous,
        "trigger": cycle.trigger,
        "objective": cycle.objective,
        "landed": cycle.landed,
        "held": cycle.held,
        "reverted": cycle.reverted,
        "notes": cycle.notes,
    }


def _cycle_table(number: int, cycle: Cycle, settings: WatchConfig) -> Table:
    table = Table(
        title=f"Cycle {number} · {cycle.commit[:10]} · {cycle.summary()}", title_justify="left"
    )
    for column in ("metric", "value", "last cycle", "change", "threshold"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, value in sorted(cycle.metrics.items()):
        last = cycle.previous.get(name)
        change = f"{(value - last) / last:+.0%}" if last else "–"
        bound = settings.thresholds.get(name)
        limits = [
            f"≤ {bound.max:.4g}" if bound and bound.max is not None else "",
            f"≥ {bound.min:.4g}" if bound and bound.min is not None else "",
        ]
        table.add_row(
            name,
            f"{value:.4g}",
            f"{last:.4g}" if last is not None else "–",
            change,
            " ".join(x for x in limits if x) or "–",
        )
    for item in cycle.landed:
        table.add_row(f"[green]landed[/] {item['target']}", item["commit"][:10], "", "", "")
    for item in cycle.held:
        table.add_row(f"[yellow]held[/] {item['target']}", f"risk {item['risk']}", "", "", "")
    for item in cycle.reverted:
        table.add_row(f"[red]reverted[/] {item['reverted_commit'][:10]}", item["why"], "", "", "")
    for note in cycle.notes:
        table.add_row(f"[dim]note: {note}[/]", "", "", "", "")
    return table

"""The loop: baseline → profile → rank → propose → verify → decide → record → confirm.

Everything runs on a private export of HEAD (see ``Workspace``); the only write to the
user's repository is the result branch, created at the very end by ``ResultBranch.publish``.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Protocol

from agent import gitops
from agent.baseline import baseline, some
from agent.config import RunConfig
from agent.confirm import confirm_result
from agent.decide import choose, commit_message
from agent.domain import Candidate, Outcome, RunReport, Target
from agent.profiling import Profile, profile_workload
from agent.project import Project, deselected_by
from agent.providers.base import ProposalRequest, Provider
from agent.providers.chat import ProviderFailed
from agent.ranking import make_target, rank
from agent.recording import Recording, record_calls
from agent.verify.cascade import Bench, verify
from agent.verify.timing import TimingPlan
from agent.workspace import Workspace
from sandbox import Limits, protection


class Observer(Protocol):
    """Hears about progress: the CLI shows it, tests may ignore it."""

    def step(self, message: str) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...


class Silent:
    """An observer that ignores everything: for callers with nobody watching."""

    def step(self, message: str) -> None:
        pass

    def outcome(self, outcome: Outcome) -> None:
        pass


def default_branch() -> str:
    return "evolver/" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def run(config: RunConfig, provider: Provider, observer: Observer) -> RunReport:
    repo = gitops.open_repo(config.repo)
    base = repo.head.commit.hexsha
    branch = gitops.ResultBranch(repo, config.branch or default_branch(), base)
    gitops.check_new_branch(repo, branch.name)
    report = RunReport(str(config.repo), base, None, provider.name)
    report.sandbox = list(protection().lines)
    for line in report.sandbox:
        observer.step(f"sandbox {line}")
    report.notes.extend(f"sandbox {line}" for line in report.sandbox if "NOT" in line)  # weak
    with Workspace(Limits(memory_mb=config.memory_mb)) as workspace:
        gitops.export_tree(repo, base, workspace.state)
        chosen = [make_target(workspace.state, ref, None) for ref in config.targets]
        project = baseline(config, workspace, observer.step, report.notes)
        report.flaky_tests = list(project.flaky_tests)
        observer.step("profiling the workload")
        with workspace.sandbox("profile") as sandbox:
            profile = profile_workload(project, sandbox)
        report.targets = select_targets(config, workspace, profile, chosen)
        if not report.targets:
            report.notes.append("the profile shows no function of the repository worth optimizing")
            return report
        observer.step(f"recording calls to {len(report.targets)} targets")
        with workspace.sandbox("record") as sandbox:
            recordings = record_calls(project, sandbox, [t.ref for t in report.targets])
        for number, ranked in enumerate(report.targets, 1):
            observer.step(f"[{number}/{len(report.targets)}] {ranked.ref}")
            improve(
                config,
                provider,
                project,
                workspace,
                ranked,
                recordings[ranked.ref],
                branch,
                observer,
                report,
            )
        if report.committed and config.confirm:
            report.confirmation = confirm_result(
                repo, base, project, workspace, observer.step, report
            )
        report.branch = branch.publish()
    if not report.outcomes:
        report.notes.append(f"no candidates: {provider.name} found nothing to change")
    return report


def improve(
    config: RunConfig,
    provider: Provider,
    project: Project,
    workspace: Workspace,
    ranked: Target,
    recording: Recording,
    branch: gitops.ResultBranch,
    observer: Observer,
    report: RunReport,
) -> None:
    """Evolve one target; commit the best proven candidate, if any, on the result branch."""
    flaky = sorted(t for t in recording.tests if deselected_by(t, project.flaky_tests))
    if flaky:
        report.notes.append(
            f"{ranked.ref}: skipped: tests that reach it are flaky on HEAD, so they "
            f"cannot judge a change to it: {some(flaky)}"
        )
        return
    target = make_target(workspace.state, ranked.ref, ranked.profile)  # after earlier winners
    bench = Bench(
        project,
        workspace,
        target,
        recording,
        config.min_speedup,
        plan=TimingPlan(timeout=config.check_timeout),
        rel_tol=config.float_tolerance,
        check_timeout=config.check_timeout,
    )
    outcomes = evolve(config, provider, bench, observer, report.notes)
    report.notes.extend(f"{target.ref}: {note}" for note in bench.notes())
    if not outcomes:
        report.notes.append(f"{target.ref}: {provider.name} proposed nothing")
        return
    winner = choose(outcomes)
    if winner is not None:
        winner.commit = branch.commit(winner.candidate.files, commit_message(winner))
        winner.committed = True
        workspace.update(winner.candidate.files)
    report.outcomes.extend(outcomes)


def evolve(
    config: RunConfig, provider: Provider, bench: Bench, observer: Observer, notes: list[str]
) -> list[Outcome]:
    """Rounds of propose → verify for one target, each told how the earlier ones fared;
    stops early when a round brings nothing new."""
    history: list[Outcome] = []
    seen: set[str] = set()
    tests = tuple(sorted(bench.recording.tests))
    with bench.workspace.sandbox("original") as original:
        bench.original = original
        for _ in range(config.rounds):
            request = ProposalRequest(
                bench.target,
                bench.file_source,
                config.candidates,
                tuple(history),
                tests,
                bench.workspace.state,
            )
            try:
                fresh = [c for c in provider.propose(request) if c.id not in seen]
            except ProviderFailed as error:
                notes.append(f"{bench.target.ref}: {provider.name} failed: {error}")
                break
            if not fresh:
                break
            seen.update(c.id for c in fresh)
            for outcome in verify_all(fresh, bench, config.jobs):
                observer.outcome(outcome)
                history.append(outcome)
    return history


def verify_all(candidates: list[Candidate], bench: Bench, jobs: int) -> list[Outcome]:
    """In the main thread when sequential, so that Ctrl-C stops a check at once."""
    if jobs == 1:
        verdicts = [verify(c, bench) for c in candidates]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            verdicts = list(pool.map(lambda c: verify(c, bench), candidates))
    return [Outcome(c, v) for c, v in zip(candidates, verdicts, strict=True)]


def select_targets(
    config: RunConfig, workspace: Workspace, profile: Profile, chosen: list[Target]
) -> list[Target]:
    if chosen:
        return [dataclasses.replace(t, profile=profile.functions.get(t.ref)) for t in chosen]
    return rank(workspace.state, profile.functions, config.max_targets)

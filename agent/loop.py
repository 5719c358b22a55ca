"""The loop: baseline → profile → rank → propose → verify → decide → record → confirm.

Everything runs on a private export of HEAD (see ``Workspace``); the only write to the
user's repository is the result branch, created at the very end by ``ResultBranch.publish``.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Protocol

import git

from agent import gitops
from agent.config import RunConfig
from agent.confirm import NotConfirmed, confirm
from agent.decide import choose, commit_message
from agent.domain import Candidate, Confirmation, Outcome, RunReport, Target
from agent.errors import UsageError
from agent.profiling import Profile, profile_workload
from agent.project import Project, TestRun, deselected_by, is_pytest
from agent.providers.base import ProposalRequest, Provider
from agent.providers.chat import ProviderFailed
from agent.ranking import make_target, rank
from agent.recording import record_calls
from agent.verify.cascade import Bench, verify
from agent.verify.timing import TimingPlan
from agent.workspace import Workspace
from sandbox import Limits, protection


class Observer(Protocol):
    """Hears about progress: the CLI shows it, tests may ignore it."""

    def step(self, message: str) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...


def default_branch() -> str:
    return "evolver/" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def run(config: RunConfig, provider: Provider, observer: Observer) -> RunReport:
    repo = gitops.open_repo(config.repo)
    base = repo.head.commit.hexsha
    branch = gitops.ResultBranch(repo, config.branch or default_branch(), base)
    gitops.check_new_branch(repo, branch.name)
    report = RunReport(str(config.repo), base, None, provider.name)
    guard = protection()
    report.sandbox = list(guard.lines)
    for line in guard.lines:
        observer.step(f"sandbox {line}")
    report.notes.extend(f"sandbox {line}" for line in guard.lines if "NOT" in line)  # weak spots
    with Workspace(Limits(memory_mb=config.memory_mb)) as workspace:
        gitops.export_tree(repo, base, workspace.state)
        chosen = [make_target(workspace.state, ref, None) for ref in config.targets]
        project = baseline(config, workspace, observer, report.notes)
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
            flaky = sorted(
                t for t in recordings[ranked.ref].tests if deselected_by(t, project.flaky_tests)
            )
            if flaky:
                report.notes.append(
                    f"{ranked.ref}: skipped: tests that reach it are flaky on HEAD, so they "
                    f"cannot judge a change to it: {_some(flaky)}"
                )
                continue
            target = make_target(workspace.state, ranked.ref, ranked.profile)  # after winners
            bench = Bench(
                project,
                workspace,
                target,
                recordings[target.ref],
                config.min_speedup,
                plan=TimingPlan(timeout=config.check_timeout),
                rel_tol=config.float_tolerance,
                check_timeout=config.check_timeout,
            )
            outcomes = evolve(config, provider, bench, observer, report.notes)
            report.notes.extend(f"{target.ref}: {note}" for note in bench.notes())
            if not outcomes:
                report.notes.append(f"{target.ref}: {provider.name} proposed nothing")
                continue
            winner = choose(outcomes)
            if winner is not None:
                winner.commit = branch.commit(winner.candidate.files, commit_message(winner))
                winner.committed = True
                workspace.update(winner.candidate.files)
            report.outcomes.extend(outcomes)
        if report.committed:
            report.confirmation = confirm_result(repo, base, project, workspace, observer, report)
        report.branch = branch.publish()
    if not report.outcomes:
        report.notes.append(f"no candidates: {provider.name} found nothing to change")
    return report


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


def baseline(
    config: RunConfig, workspace: Workspace, observer: Observer, notes: list[str] | None = None
) -> Project:
    """Run the tests on HEAD twice: they must pass, but for tests that are flaky.

    A test whose outcome differs between the two runs is flaky: it is reported (in ``notes``
    and the project's ``flaky_tests``) and judges no candidate. A run that fails only in
    flaky tests is no reason to stop; a test that fails both times is. Returns the project
    with timeouts fitted to the tests and the flaky tests known.
    """
    notes = [] if notes is None else notes
    project = Project(
        test_command=config.test_command, workload=config.workload, test_timeout=config.test_timeout
    )
    observer.step("running the baseline tests (twice, to find flaky ones)")
    # Both runs in one copy: the tests stage runs a candidate's targeted tests and then the
    # whole suite in one copy too, so a test that fails when run again in a used copy (state
    # left behind by the first run) would reject every candidate; found here, it is flaky.
    with workspace.sandbox("baseline") as sandbox:
        first = project.run_tests(sandbox, per_test=True)
        if first.no_tests:
            raise UsageError("no tests found: evolver needs tests to verify changes")
        if first.timed_out:
            raise UsageError(f"baseline tests fail on HEAD: {first.describe_failure()}")
        second = project.run_tests(sandbox, per_test=True)
    flaky = flaky_tests(first, second, notes, pytest=is_pytest(project.tests_argv))
    fitted = min(config.test_timeout, 60 + 5 * max(first.duration, second.duration))
    return dataclasses.replace(project, test_timeout=fitted, flaky_tests=flaky)


def flaky_tests(
    first: TestRun, second: TestRun, notes: list[str], pytest: bool = True
) -> tuple[str, ...]:
    """The tests whose outcome differs between two runs; raises if a failure is consistent.

    Without per-test outcomes (a test command that is not pytest, or no junit report) only
    the overall results can be compared: failing twice stops the run, failing once is said.
    """
    if first.outcomes is None or second.outcomes is None:
        if not first.ok and not second.ok:
            raise UsageError(f"baseline tests fail on HEAD: {first.describe_failure()}")
        if first.ok != second.ok:
            why = "pytest wrote no junit report" if pytest else "it is not pytest"
            failing = second if first.ok else first
            notes.append(
                "the test command passed once and failed once on HEAD: it is flaky, and "
                f"which tests are cannot be told ({why}); candidates it fails are rejected "
                f"({failing.describe_failure()})"
            )
        return ()
    runs = (first.outcomes, second.outcomes)
    every = sorted(runs[0].keys() | runs[1].keys())
    flaky = tuple(t for t in every if runs[0].get(t) != runs[1].get(t))
    for run, outcomes in zip((first, second), runs, strict=True):
        failed = [t for t, outcome in outcomes.items() if outcome == "failed"]
        if run.timed_out or (not run.ok and not failed):
            raise UsageError(f"baseline tests fail on HEAD: {run.describe_failure()}")
        steady = [t for t in failed if t not in flaky]
        if steady:
            shown = dataclasses.replace(run, failed=tuple(steady))
            raise UsageError(f"baseline tests fail on HEAD: {shown.describe_failure()}")
    if flaky:
        notes.append(
            f"flaky tests on HEAD (their outcome differed between two runs), not used to judge "
            f"candidates: {_some(flaky)}"
        )
        # pytest's --deselect takes prefixes: leaving out test_a also leaves out test_ab.
        caught = [t for t in every if t not in flaky and t.startswith(flaky)]
        if caught:
            notes.append(f"left out with them, as pytest deselects by prefix: {_some(caught)}")
    return flaky


def _some(items: list[str] | tuple[str, ...], shown: int = 10) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def confirm_result(
    repo: git.Repo,
    base: str,
    project: Project,
    workspace: Workspace,
    observer: Observer,
    report: RunReport,
) -> Confirmation | None:
    """The repo's own workload on the base commit against the result (``Workspace.state``).

    The base side is a copy of the state with the winners' files put back as they were at
    the base commit: the state is the base commit plus those files, nothing else.
    """
    changed = sorted({path for o in report.outcomes if o.committed for path in o.candidate.files})
    with workspace.sandbox("confirm-base") as before, workspace.sandbox("confirm-result") as after:
        for path in changed:
            text = gitops.read_file(repo, base, path)
            if text is None:
                (before.work / path).unlink(missing_ok=True)
            else:
                before.write_file(path, text)
        try:
            return confirm(project, before, after, observer.step)
        except NotConfirmed as error:
            report.notes.append(f"the whole result was not confirmed: {error}")
            return None


def select_targets(
    config: RunConfig, workspace: Workspace, profile: Profile, chosen: list[Target]
) -> list[Target]:
    if chosen:
        return [dataclasses.replace(t, profile=profile.functions.get(t.ref)) for t in chosen]
    return rank(workspace.state, profile.functions, config.max_targets)

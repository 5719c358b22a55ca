"""The loop: baseline → profile → rank → propose → record → verify → decide → commit → confirm.

Everything runs on a private export of HEAD (see ``Workspace``); the only write to the
user's repository is the result branch, created at the very end by ``ResultBranch.publish``.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from agent.config import RunConfig
from agent.decide.risk import assess
from agent.decide.winner import choose, commit_message
from agent.domain import Candidate, FunctionProfile, Outcome, RunReport, Target, TargetRef
from agent.profile.baseline import baseline, some
from agent.profile.profiling import Profile, profile_workload
from agent.profile.recording import Recording, record_calls
from agent.project.runner import Project, deselected_by
from agent.project.workspace import Workspace, limits_of
from agent.providers.base import ProposalRequest, Provider, TargetSkipped, needs_of
from agent.providers.chat import ProviderFailed
from agent.providers.patching import as_diff
from agent.rank.ranking import make_target, rank
from agent.record import gitops
from agent.record.confirm import confirm_result
from agent.reports.terminal import plural
from agent.verify.cascade import Bench, verify
from agent.verify.timing import TimingPlan
from sandbox import protection

HOTSPOTS = 20  # functions of the profile kept in the report


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


class Journal(Protocol):
    """Keeps the run as it goes (the history), so that an interrupted run can be resumed.

    Finishing the record is the caller's: only it knows the whole report (the model's usage).
    """

    def begin(self, report: RunReport, branch: str) -> int: ...

    def targets_chosen(self, targets: list[Target]) -> None: ...

    def target_done(self, target: Target, outcomes: list[Outcome], tip: str) -> None: ...


@dataclass(frozen=True)
class Resume:
    """Where an interrupted run stopped: its targets, those done, and the branch's tip."""

    run_id: int
    base: str
    branch: str
    tip: str
    targets: tuple[tuple[TargetRef, FunctionProfile | None], ...]
    done: frozenset[TargetRef]
    outcomes: tuple[Outcome, ...]


def default_branch() -> str:
    return "evolver/" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def run(
    config: RunConfig,
    provider: Provider,
    observer: Observer,
    journal: Journal | None = None,
    resume: Resume | None = None,
) -> RunReport:
    repo = gitops.open_repo(config.repo)
    base = resume.base if resume else gitops.resolve(repo, config.base or "HEAD")
    name = resume.branch if resume else config.branch or default_branch()
    branch = gitops.ResultBranch(repo, name, base)
    gitops.check_new_branch(repo, branch.name)
    report = RunReport(str(config.repo), base, None, provider.name, model=config.model)
    report.started = _now()
    guard = protection()
    report.sandbox = list(guard.lines)
    if journal is not None:
        report.run_id = resume.run_id if resume else journal.begin(report, branch.name)
    for line in report.sandbox:
        observer.step(f"sandbox {line}")
    report.notes.extend(f"sandbox {line}" for line in guard.weaknesses)
    if resume:
        branch.tip = resume.tip
        report.outcomes.extend(resume.outcomes)
    with Workspace.for_commit(repo, branch.tip, limits_of(config)) as workspace:
        chosen = [make_target(workspace.state, ref, None) for ref in config.targets]
        project = baseline(config, workspace, observer.step, report.notes)
        report.flaky_tests = list(project.flaky_tests)
        if resume:
            report.targets = [make_target(workspace.state, r, p) for r, p in resume.targets]
        else:
            observer.step("profiling the workload")
            with workspace.sandbox("profile") as sandbox:
                profile = profile_workload(project, sandbox)
            report.notes.extend(profile.notes)
            report.hotspots = dict(
                sorted(profile.functions.items(), key=lambda kv: -kv[1].share)[:HOTSPOTS]
            )
            report.targets = select_targets(config, workspace, profile, chosen)
            if journal is not None:
                journal.targets_chosen(report.targets)
        todo = [t for t in report.targets if not resume or t.ref not in resume.done]
        if not report.targets:
            report.notes.append("the profile shows no function of the repository worth optimizing")
        improve_all(config, provider, project, workspace, todo, branch, observer, journal, report)
        if report.committed and config.confirm:
            report.confirmation = confirm_result(
                repo, base, branch.tip, project, workspace, observer.step, report
            )
        report.branch = branch.publish()
    if report.targets and not report.outcomes:
        report.notes.append(f"no candidates: {provider.name} found nothing to change")
    report.finished = _now()
    return report


def improve_all(
    config: RunConfig,
    provider: Provider,
    project: Project,
    workspace: Workspace,
    todo: list[Target],
    branch: gitops.ResultBranch,
    observer: Observer,
    journal: Journal | None,
    report: RunReport,
) -> None:
    """Ask the provider about every target first, then record calls (one run of the tests)
    only to those it had candidates for, then evolve them one by one. Recording is the costly
    part, so the first round goes without the tests that reach a target; later rounds have
    them."""
    if todo:
        observer.step(f"asking {provider.name} about {plural(len(todo), 'target')}")
    firsts = {t.ref: first_round(config, provider, workspace, t, report.notes) for t in todo}
    wanted = [t for t in todo if firsts[t.ref] is not None]
    recordings = record(project, workspace, wanted, observer, report.notes)
    for ranked in todo:  # in order, all of them: the journal's tips follow that order
        outcomes: list[Outcome] = []
        if ranked.ref in recordings:
            observer.step(f"[{wanted.index(ranked) + 1}/{len(wanted)}] {ranked.ref}")
            recording, first = recordings[ranked.ref], firsts[ranked.ref]
            outcomes = improve(
                config, provider, project, workspace, ranked, recording, first, branch,
                observer, report,
            )  # fmt: skip
        if journal is not None:
            journal.target_done(ranked, outcomes, branch.tip)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def improve(
    config: RunConfig,
    provider: Provider,
    project: Project,
    workspace: Workspace,
    ranked: Target,
    recording: Recording,
    first: FirstRound | None,
    branch: gitops.ResultBranch,
    observer: Observer,
    report: RunReport,
) -> list[Outcome]:
    """Evolve one target, starting from its ``first`` candidates; commit the best proven
    candidate, if any, on the result branch."""
    flaky = sorted(t for t in recording.tests if deselected_by(t, project.flaky_tests))
    if flaky:
        report.notes.append(
            f"{ranked.ref}: skipped: tests that reach it are flaky on HEAD, so they "
            f"cannot judge a change to it: {some(flaky)}"
        )
        return []
    target = make_target(workspace.state, ranked.ref, ranked.profile)  # after earlier winners
    bench = Bench(
        project,
        workspace,
        target,
        recording,
        config.min_speedup,
        plan=TimingPlan(timeout=config.check_timeout, budget=config.timing_budget),
        rel_tol=config.float_tolerance,
        strict_behaviour=config.strict_behaviour,
        check_timeout=config.check_timeout,
    )
    outcomes = evolve(config, provider, bench, observer, report.notes, first)
    report.notes.extend(f"{target.ref}: {note}" for note in bench.notes())
    if not outcomes:
        return []
    for outcome in outcomes:
        if outcome.verdict.accepted:  # so the behaviour was observed: counts() is free
            counts = bench.behaviour().counts()
            outcome.risk = assess(outcome, target, counts["recorded"] + counts["test"])
    winner = choose(outcomes)
    if winner is not None:
        winner.commit = branch.commit(winner.candidate.files, commit_message(winner))
        winner.committed = True
        workspace.update(winner.candidate.files)
    report.outcomes.extend(outcomes)
    return outcomes


def evolve(
    config: RunConfig,
    provider: Provider,
    bench: Bench,
    observer: Observer,
    notes: list[str],
    first: FirstRound | None = None,
) -> list[Outcome]:
    """Rounds of propose → verify for one target, each told how the earlier ones fared;
    stops early when a round brings nothing new. ``first`` is the first round, when it was
    asked for the file as it still stands."""
    history: list[Outcome] = []
    seen: set[str] = set()
    tests = tuple(sorted(bench.recording.tests))
    with bench.workspace.sandbox("original") as original:
        bench.original = original
        for number in range(config.rounds):
            if number == 0 and first is not None and first.file_source == bench.file_source:
                proposed: list[Candidate] | None = first.candidates
            else:  # a later round, or an earlier winner changed the file
                request = ProposalRequest(
                    bench.target,
                    bench.file_source,
                    config.candidates,
                    tuple(history),
                    tests,
                    bench.workspace.state,
                    number,
                )
                proposed = ask(provider, request, notes)
            fresh = [c for c in proposed or () if c.id not in seen]
            if not fresh:
                break
            seen.update(c.id for c in fresh)
            for outcome in verify_all(within_needs(fresh, bench, notes), bench, config.jobs):
                observer.outcome(outcome)
                history.append(outcome)
    return history


@dataclass(frozen=True)
class FirstRound:
    """A target's first candidates, asked before any call was recorded (so without the tests
    that reach it), and the text of its file they were made from."""

    file_source: str
    candidates: list[Candidate]


def first_round(
    config: RunConfig, provider: Provider, workspace: Workspace, ranked: Target, notes: list[str]
) -> FirstRound | None:
    """The target's first candidates, or ``None`` (said in ``notes``) when there are none."""
    target = make_target(workspace.state, ranked.ref, ranked.profile)
    source = (workspace.state / target.ref.path).read_text(encoding="utf-8")
    request = ProposalRequest(target, source, config.candidates, repo_root=workspace.state)
    proposed = ask(provider, request, notes)
    if proposed == []:
        notes.append(f"{target.ref}: {provider.name} proposed nothing")
    return FirstRound(source, proposed) if proposed else None


def ask(provider: Provider, request: ProposalRequest, notes: list[str]) -> list[Candidate] | None:
    """The provider's candidates; ``None`` when it failed or skipped the target (noted)."""
    ref = request.target.ref
    try:
        return provider.propose(request)
    except ProviderFailed as error:
        notes.append(f"{ref}: {provider.name} failed: {error}")
    except TargetSkipped as error:
        notes.append(f"{ref}: skipped: {error}")
    return None


def within_needs(candidates: list[Candidate], bench: Bench, notes: list[str]) -> list[Candidate]:
    """The candidates whose declared needs the recorded calls may meet; a note for each need
    that drops one."""
    kept = []
    for candidate in candidates:
        unmet = [(need.by, why) for need in needs_of(candidate)
                 if (why := need.unmet(bench.recording.largest_argument))]  # fmt: skip
        for by, why in unmet:
            note = f"{by}: skipped for {bench.target.ref}: {why}"
            if note not in notes:
                notes.append(note)
        if not unmet:
            kept.append(candidate)
    return kept


def record(
    project: Project,
    workspace: Workspace,
    targets: list[Target],
    observer: Observer,
    notes: list[str],
) -> dict[TargetRef, Recording]:
    """Calls to ``targets`` and the tests that reach them, in one run of the tests (and the
    workload)."""
    if not targets:
        return {}
    observer.step(f"recording calls to {plural(len(targets), 'target')}")
    with workspace.sandbox("record") as sandbox:
        return record_calls(project, sandbox, [t.ref for t in targets], notes=notes)


def verify_all(candidates: list[Candidate], bench: Bench, jobs: int) -> list[Outcome]:
    """In the main thread when sequential, so that Ctrl-C stops a check at once."""
    if jobs == 1:
        verdicts = [verify(c, bench) for c in candidates]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            verdicts = list(pool.map(lambda c: verify(c, bench), candidates))
    state = bench.workspace.state
    return [
        Outcome(c, v, patch=as_diff(state, c.files) if c.files else None)
        for c, v in zip(candidates, verdicts, strict=True)
    ]


def select_targets(
    config: RunConfig, workspace: Workspace, profile: Profile, chosen: list[Target]
) -> list[Target]:
    if chosen:
        return [dataclasses.replace(t, profile=profile.functions.get(t.ref)) for t in chosen]
    return rank(workspace.state, profile.functions, config.max_targets)

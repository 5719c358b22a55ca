"""The loop: baseline → profile → rank → propose → record → verify → decide → commit → confirm,
each target kept in the history as soon as it is done (``run`` reads in that order).

Everything runs on a private export of HEAD (see ``Workspace``); the only write to the
user's repository is the result branch, created at the very end by ``ResultBranch.publish``.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

import git

from agent.config import RunConfig
from agent.decide.risk import assess
from agent.decide.winner import choose, commit_message
from agent.domain import Candidate, Outcome, RunReport, Target, TargetRef
from agent.profile.baseline import baseline, some
from agent.profile.memory import profile_memory, with_memory
from agent.profile.profiling import Profile, profile_workload
from agent.profile.recording import Recording, record_calls
from agent.project.runner import Project, deselected_by
from agent.project.workspace import Workspace, limits_of
from agent.providers.base import (
    ProposalRequest,
    Provider,
    ProviderFailed,
    TargetSkipped,
    needs_of,
)
from agent.providers.patching import as_diff
from agent.rank.ranking import make_target, rank
from agent.record import gitops
from agent.record.confirm import confirm_result
from agent.record.store import Resume
from agent.reports.format import plural
from agent.verify.cascade import Bench, verify
from agent.verify.timing import TimingPlan
from agent.verify.unit import unit_diffs
from sandbox import Sandbox, protection

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
class RunContext:
    """What every step of one run works with, set up once: the report fills as it goes."""

    config: RunConfig
    provider: Provider
    project: Project
    workspace: Workspace
    branch: gitops.ResultBranch
    observer: Observer
    report: RunReport

    @property
    def notes(self) -> list[str]:
        return self.report.notes


def default_branch() -> str:
    return "evolver/" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run(
    config: RunConfig,
    provider: Provider,
    observer: Observer,
    journal: Journal | None = None,
    resume: Resume | None = None,
) -> RunReport:
    """Baseline → profile → rank → propose → record → verify → decide → commit → confirm, each
    target kept in the history (``journal``) once done; ``resume`` goes on with an interrupted
    run, from where it stopped, with the targets it chose."""
    repo, branch, report = set_up(config, provider, observer, journal, resume)
    with Workspace.for_commit(repo, branch.tip, limits_of(config)) as workspace:
        # A named target that cannot be one fails here, before the baseline's long run.
        named = [make_target(workspace.state, ref, None) for ref in config.targets]
        project = baseline(config, workspace, observer.step, report.notes)
        report.flaky_tests = list(project.flaky_tests)
        context = RunContext(config, provider, project, workspace, branch, observer, report)
        if resume is None:
            report.targets = select_targets(config, workspace, profile(context), named)
            todo = report.targets
            if journal is not None:
                journal.targets_chosen(report.targets)
        else:
            report.targets, todo = resumed_targets(workspace, resume)
        if not report.targets:
            report.notes.append("the profile shows no function of the repository worth optimizing")
        improve_all(context, todo, journal)
        if report.committed and config.confirm:
            report.confirmation = confirm_result(
                repo, report.base_commit, branch.tip, project, workspace, observer.step, report
            )
        report.branch = branch.publish()
    if report.targets and not report.outcomes:
        report.notes.append(f"no candidates: {provider.name} found nothing to change")
    report.finished = _now()
    return report


def set_up(
    config: RunConfig,
    provider: Provider,
    observer: Observer,
    journal: Journal | None,
    resume: Resume | None,
) -> tuple[git.Repo, gitops.ResultBranch, RunReport]:
    """The repository, the result branch (checked to be new) and the report begun (in the
    history too), with the sandbox's protection said; where ``resume`` left them, if given."""
    repo = gitops.open_repo(config.repo)
    base = resume.base if resume else gitops.resolve(repo, config.base or "HEAD")
    name = resume.branch if resume else config.branch or default_branch()
    branch = gitops.ResultBranch(repo, name, base)
    gitops.check_new_branch(repo, branch.name)
    report = RunReport(
        str(config.repo), base, None, provider.name, model=config.model, objective=config.objective
    )
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
    return repo, branch, report


def resumed_targets(workspace: Workspace, resume: Resume) -> tuple[list[Target], list[Target]]:
    """The interrupted run's targets as they stand now, and those it had not done."""
    targets = [make_target(workspace.state, ref, found) for ref, found in resume.targets]
    return targets, [t for t in targets if t.ref not in resume.done]


def profile(context: RunContext) -> Profile:
    """The workload's profile, with its memory when the objective asks (a pass of its own);
    its hottest functions go in the report."""
    context.observer.step("profiling the workload")
    with context.workspace.sandbox("profile") as sandbox:
        found = profile_workload(context.project, sandbox)
    report = context.report
    report.notes.extend(found.notes)
    if context.config.objective != "time":
        context.observer.step("tracing the workload's memory")
        with context.workspace.sandbox("memory") as sandbox:
            memory, notes = profile_memory(context.project, sandbox)
        report.notes.extend(notes)
        found = with_memory(found, memory)
    hottest = sorted(found.functions.items(), key=lambda kv: -kv[1].share)[:HOTSPOTS]
    report.hotspots = dict(hottest)
    return found


def improve_all(context: RunContext, todo: list[Target], journal: Journal | None) -> None:
    """Ask the provider about every target first, then record calls (one run of the tests)
    only to those it had candidates for, then evolve them one by one. Recording is the costly
    part, so the first round goes without the tests that reach a target; later rounds have
    them."""
    if todo:
        context.observer.step(f"asking {context.provider.name} about {plural(len(todo), 'target')}")
    firsts = {t.ref: first_round(context, t) for t in todo}
    wanted = [t for t in todo if firsts[t.ref] is not None]
    recordings = record(context, wanted)
    for ranked in todo:  # in order, all of them: the journal's tips follow that order
        outcomes: list[Outcome] = []
        if ranked.ref in recordings:
            context.observer.step(f"[{wanted.index(ranked) + 1}/{len(wanted)}] {ranked.ref}")
            outcomes = improve(context, ranked, recordings[ranked.ref], firsts[ranked.ref])
        if journal is not None:
            journal.target_done(ranked, outcomes, context.branch.tip)


def improve(
    context: RunContext, ranked: Target, recording: Recording, first: FirstRound | None
) -> list[Outcome]:
    """Evolve one target, starting from its ``first`` candidates, against the original (the
    file as it stands, earlier winners applied); commit the best proven candidate, if any, on
    the result branch."""
    if reached_by_flaky_tests(context, ranked, recording):
        return []
    workspace = context.workspace
    target = make_target(workspace.state, ranked.ref, ranked.profile)  # after earlier winners
    with workspace.sandbox("original") as original:
        bench = make_bench(context, target, recording, original)
        outcomes = evolve(context, bench, first)
        assess_risks(outcomes, bench)
    context.notes.extend(f"{target.ref}: {note}" for note in bench.notes())
    winner = choose(outcomes)  # decide
    if winner is not None:  # commit
        winner.commit = context.branch.commit(winner.candidate.files, commit_message(winner))
        winner.committed = True
        workspace.update(winner.candidate.files)
    context.report.outcomes.extend(outcomes)
    return outcomes


def reached_by_flaky_tests(context: RunContext, ranked: Target, recording: Recording) -> bool:
    """Whether tests flaky on HEAD reach the target (said in the notes): then they cannot
    judge a change to it, and it is skipped."""
    flaky = sorted(t for t in recording.tests if deselected_by(t, context.project.flaky_tests))
    if flaky:
        context.notes.append(
            f"{ranked.ref}: skipped: tests that reach it are flaky on HEAD, so they "
            f"cannot judge a change to it: {some(flaky)}"
        )
    return bool(flaky)


def timing_plan(config: RunConfig) -> TimingPlan:
    """How a run's candidates are timed: within its check timeout and timing budget, in
    samples of at least its ``min_time``."""
    return TimingPlan(
        timeout=config.check_timeout, budget=config.timing_budget, min_time=config.min_time
    )


def make_bench(
    context: RunContext, target: Target, recording: Recording, original: Sandbox
) -> Bench:
    """The bench for one target's candidates, with ``original`` the side to beat."""
    config = context.config
    return Bench(
        context.project,
        context.workspace,
        target,
        recording,
        config.min_speedup,
        original,
        plan=timing_plan(config),
        rel_tol=config.float_tolerance,
        strict_behaviour=config.strict_behaviour,
        check_timeout=config.check_timeout,
        objective=config.objective,
        min_memory_saving=config.min_memory_saving,
        max_slowdown=config.max_slowdown,
    )


def assess_risks(outcomes: list[Outcome], bench: Bench) -> None:
    """How closely a reviewer should look at each accepted candidate."""
    for outcome in outcomes:
        if outcome.verdict.accepted:  # so the behaviour was observed: reading it is free
            outcome.risk = assess(outcome, bench.target, bench.behaviour().real)


def evolve(context: RunContext, bench: Bench, first: FirstRound | None = None) -> list[Outcome]:
    """Rounds of propose → verify for one target, each told how the earlier ones fared;
    stops early when a round brings nothing new. ``first`` is the first round, when it was
    asked for the file as it still stands."""
    config = context.config
    history: list[Outcome] = []
    seen: set[str] = set()
    tests = tuple(sorted(bench.recording.tests))
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
                config.objective,
            )
            proposed = ask(context.provider, request, context.notes)
        fresh = [c for c in proposed or () if c.id not in seen]
        if not fresh:
            break
        seen.update(c.id for c in fresh)
        for outcome in verify_all(within_needs(fresh, bench, context.notes), bench, config.jobs):
            context.observer.outcome(outcome)
            history.append(outcome)
    return history


@dataclass(frozen=True)
class FirstRound:
    """A target's first candidates, asked before any call was recorded (so without the tests
    that reach it), and the text of its file they were made from."""

    file_source: str
    candidates: list[Candidate]


def first_round(context: RunContext, ranked: Target) -> FirstRound | None:
    """The target's first candidates, or ``None`` (said in the notes) when there are none."""
    state, provider = context.workspace.state, context.provider
    target = make_target(state, ranked.ref, ranked.profile)
    source = (state / target.ref.path).read_text(encoding="utf-8")
    request = ProposalRequest(
        target, source, context.config.candidates, repo_root=state,
        objective=context.config.objective,
    )  # fmt: skip
    proposed = ask(provider, request, context.notes)
    if proposed == []:
        context.notes.append(f"{target.ref}: {provider.name} proposed nothing")
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


def record(context: RunContext, targets: list[Target]) -> dict[TargetRef, Recording]:
    """Calls to ``targets`` and the tests that reach them, in one run of the tests (and the
    workload)."""
    if not targets:
        return {}
    context.observer.step(f"recording calls to {plural(len(targets), 'target')}")
    with context.workspace.sandbox("record") as sandbox:
        refs = [t.ref for t in targets]
        return record_calls(context.project, sandbox, refs, notes=context.notes)


def verify_all(candidates: list[Candidate], bench: Bench, jobs: int) -> list[Outcome]:
    """In the main thread when sequential, so that Ctrl-C stops a check at once."""
    if jobs == 1:
        verdicts = [verify(c, bench) for c in candidates]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            verdicts = list(pool.map(lambda c: verify(c, bench), candidates))
    state = bench.workspace.state
    return [
        Outcome(
            c,
            v,
            patch=as_diff(state, c.files) if c.files else None,
            changes=unit_diffs(bench.target.ref, bench.file_source, c.files, v.changed),
        )
        for c, v in zip(candidates, verdicts, strict=True)
    ]


def select_targets(
    config: RunConfig, workspace: Workspace, profile: Profile, chosen: list[Target]
) -> list[Target]:
    if chosen:
        return [dataclasses.replace(t, profile=profile.functions.get(t.ref)) for t in chosen]
    return rank(workspace.state, profile.functions, config.max_targets, config.objective)

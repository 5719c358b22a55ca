"""The verification cascade: cheapest checks first, stop at the first that objects.

``CASCADE`` is the stages in order (``agent.domain.STAGES`` names them, in that order): first
those that read the candidate's text, then those that run its code, in a sandbox of its own,
each followed by ``TAMPER``. ``verify`` runs them and gives the verdict.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from agent.domain import Candidate, Verdict
from agent.project.runner import Project
from agent.verify import equivalence as same
from agent.verify import sequences
from agent.verify.bench import Bench, Trial
from agent.verify.capabilities import check_capabilities
from agent.verify.endtoend import EndToEndError, Rejected
from agent.verify.harness import HarnessError
from agent.verify.scope import check_static, parsed, syntax_error
from agent.verify.speed import speed
from agent.verify.suite import judge
from agent.verify.tamper import Snapshot
from agent.verify.unit import Unit, helper_refusal, listed, shared_helpers, unit_of
from agent.verify.untrusted import scrub

__all__ = ["CASCADE", "READING", "RUNNING", "TAMPER", "Bench", "Stage", "Trial", "verify"]

Judged = TypeVar("Judged", contravariant=True)  # what a stage looks at: Candidate or Trial
Subject = TypeVar("Subject")


class Stage(Protocol[Judged]):
    """One check of the cascade. ``name`` is the stage a rejection by it names (a stage may
    also name an earlier one when it finds what that one checks: the speed stage rejects as
    ``equivalence`` a candidate that behaves otherwise while timed). Called with what it judges
    and the bench; ``None`` lets the candidate go on to the next stage."""

    @property
    def name(self) -> str: ...

    def __call__(self, judged: Judged, bench: Bench, /) -> Verdict | None: ...


@dataclass(frozen=True)
class Check(Generic[Subject]):
    """A stage made of a function."""

    name: str
    check: Callable[[Subject, Bench], Verdict | None]

    def __call__(self, judged: Subject, bench: Bench, /) -> Verdict | None:
        return self.check(judged, bench)


def verify(candidate: Candidate, bench: Bench) -> Verdict:
    """Run the stages in order; the first that objects gives the verdict.

    Whatever a candidate does, this returns: a check that fails in itself rejects the candidate
    with the reason (a candidate may never stop a run). Reasons carry text the candidate's code
    controls (exception messages, output), so they are capped and scrubbed of anything that
    looks like a secret before they reach reports, history, prompts or pull requests.
    """
    try:
        verdict = _verdict(candidate, bench)
    except Exception as error:
        verdict = Verdict(False, "internal", f"checking it failed: {type(error).__name__}: {error}")
    return dataclasses.replace(verdict, reason=scrub(verdict.reason, _REASON_LIMIT))


_REASON_LIMIT = 400


def _verdict(candidate: Candidate, bench: Bench) -> Verdict:
    for reading in READING:
        verdict = reading(candidate, bench)
        if verdict is not None:
            return verdict
    unit = _unit(candidate, bench)
    with bench.workspace.sandbox(f"candidate-{candidate.id}") as sandbox:
        for path, text in candidate.files.items():
            sandbox.write_file(path, text)
        # The files that judge the candidate (tests, conftest, configuration, and the candidate
        # itself) must be the same after each stage as before it: its code runs in every stage.
        trial = Trial(candidate, sandbox, Snapshot.take(sandbox.work), unit)
        verdict = _run(trial, bench)
        return dataclasses.replace(
            verdict, not_compared=tuple(trial.not_compared), changed=unit.beyond
        )


def _unit(candidate: Candidate, bench: Bench) -> Unit:
    new_source = candidate.files[bench.target.ref.path]
    return unit_of(bench.target.ref.qualname, parsed(bench.file_source), parsed(new_source))


def _run(trial: Trial, bench: Bench) -> Verdict:
    for running in RUNNING:
        verdict = running(trial, bench)
        tampered = TAMPER(trial, bench)
        if tampered is not None:
            return tampered
        if verdict is not None:
            return verdict
    raise AssertionError("the speed stage always decides")


# The stages that read the candidate's text: nothing of it runs.


def reply(candidate: Candidate, bench: Bench) -> Verdict | None:
    """A provider's answer that could not be turned into an edit is rejected with why."""
    return None if candidate.problem is None else Verdict(False, "reply", candidate.problem)


def parse(candidate: Candidate, bench: Bench) -> Verdict | None:
    """The edited file parses (the tree is kept for the scope stage, see ``scope.parsed``)."""
    new_source = candidate.files.get(bench.target.ref.path)
    problem = None if new_source is None else syntax_error(new_source)
    return None if problem is None else Verdict(False, "parse", problem)


def scope(candidate: Candidate, bench: Bench) -> Verdict | None:
    """The edit changes only what it may: its target's unit (see ``agent.verify.scope``), and
    no helper that code it leaves as it was also uses (``agent.verify.unit``)."""
    static = check_static(candidate, bench.target, bench.file_source, unit=True)
    if static is not None:
        return Verdict(False, *static)
    why = helper_refusal(_unit(candidate, bench), parsed(bench.file_source))
    return None if why is None else Verdict(False, "scope", why)


def capability(candidate: Candidate, bench: Bench) -> Verdict | None:
    """Before anything runs: the candidate may reach only what its original reaches."""
    new_source = candidate.files[bench.target.ref.path]
    reach = check_capabilities(bench.file_source, new_source, bench.target.ref.qualname)
    return None if reach is None else Verdict(False, "capability", reach)


# The stages that run the candidate's code, in its sandbox (and the speed stage, ``speed.py``).


def imports(trial: Trial, bench: Bench) -> Verdict | None:
    module = bench.target.ref.module
    imported = bench.project.import_module(trial.sandbox, module, timeout=bench.check_timeout)
    if imported.ok:
        return None
    tail = (imported.stderr.strip().splitlines() or ["timed out"])[-1]
    return Verdict(False, "import", f"import {module} fails: {tail[:200]}")


def equivalent(trial: Trial, bench: Bench) -> Verdict | None:
    """The differential and property check: the same outcomes as the original's.

    With no call recorded to compare on, it compares nothing per call, and says so: the
    behaviour is judged on what the workload shows instead (its output and exit code, here),
    and the tests stage follows as ever.
    """
    for name, users in shared_helpers(trial.unit, parsed(bench.file_source)).items():
        rejected = _shared_helper(trial, bench, name, users)
        if rejected is not None:
            return rejected
    if trial.unit.class_level:
        return _on_sequences(trial, bench)
    if not bench.per_call:
        trial.not_compared.append("equivalence")
        return _workload_behaviour(trial, bench) if bench.reached else None
    try:
        behaviour = bench.behaviour()
        trial.judgement = same.check(
            bench.project,
            trial.sandbox,
            bench.target.ref,
            behaviour,
            bench.rel_tol,
            bench.check_timeout,
            bench.strict_behaviour,
        )
    except HarnessError as error:
        return Verdict(False, "equivalence", f"the behaviour check {error}")
    if not behaviour.checkable:  # the original repeated nothing: there was nothing to match
        trial.not_compared.append("equivalence")
    why = trial.judgement.reason
    return None if why is None else Verdict(False, "equivalence", why)


def _shared_helper(trial: Trial, bench: Bench, name: str, users: list[str]) -> Verdict | None:
    """A rewritten function that other code also uses is judged on its own calls as a target
    is (recorded from the tests and the workload, and drawn from them): then every caller
    gets the same answers from it."""
    also = f"{name}, which {listed(users)} also use"
    try:
        ref, behaviour = bench.helper_behaviour(name)
        if not behaviour.real:
            unrecorded = f"rewrites {also}, and no call of it was recorded to compare it on"
            return Verdict(False, "equivalence", unrecorded)
        judgement = same.check(
            bench.project, trial.sandbox, ref, behaviour, bench.rel_tol, bench.check_timeout,
            bench.strict_behaviour,
        )  # fmt: skip
    except HarnessError as error:
        return Verdict(False, "equivalence", f"checking {also}: the behaviour check {error}")
    differs = judgement.reason
    return None if differs is None else Verdict(False, "equivalence", f"{also}: {differs}")


def _on_sequences(trial: Trial, bench: Bench) -> Verdict | None:
    """A candidate that changes its target's class is judged on sequences of calls on real
    objects (``agent.verify.sequences``), recorded and drawn from them in new orders: one call
    replayed on a pickled object would carry the original's private state, not the
    candidate's. At least one recorded step that the original repeats must call the target;
    else nothing real has compared it, and nothing is accepted."""
    behaviour = bench.sequence_behaviour()
    refusal = sequences.unjudged(behaviour, bench.target.ref.qualname, trial.unit.beyond)
    if refusal is not None:
        return Verdict(False, "equivalence", refusal)
    why = sequences.check_sequences(
        bench.project,
        trial.sandbox,
        bench.target.ref,
        behaviour,
        bench.check_timeout,
        bench.rel_tol,
    )
    return None if why is None else Verdict(False, "equivalence", why)


def _workload_behaviour(trial: Trial, bench: Bench) -> Verdict | None:
    """The first rounds of the end-to-end comparison (see ``agent.verify.endtoend``): the
    workload's exit code and output, the original's run twice, the candidate's compared with
    them (timed too: they count). When the tests are what reaches the target, the tests stage
    judges, and timing starts after it."""
    trial.endtoend = bench.end_to_end(trial.sandbox)
    if trial.endtoend.reach.is_tests:
        return None
    try:
        with bench.timing_lock:  # these runs are timed too: never beside another timing
            trial.endtoend.behaviour()
    except Rejected as rejected:
        return Verdict(False, rejected.stage, rejected.reason)
    except EndToEndError as error:
        return Verdict(False, "equivalence", f"cannot be judged end to end: {error}")
    if not trial.endtoend.output_compared() and not bench.recording.tests:
        # Then only an exit code would stand for its behaviour: a change that did less work
        # and printed the same nothing would pass. Nothing is accepted on no evidence.
        return Verdict(
            False,
            "equivalence",
            f"nothing observes its behaviour: no call could be recorded ({bench.unrecorded()}), "
            f"no test reaches it, and {trial.endtoend.output_note()}",
        )
    return None


def tests(trial: Trial, bench: Bench) -> Verdict | None:
    """The tests that reach the target first (they fail fastest), then the whole suite; each
    run judged from the trusted plugin's records against the baseline's tests and outcomes,
    never by its exit code alone; tests found flaky on HEAD judge nothing."""
    project = bench.project
    targeted = sorted(project.not_flaky(bench.recording.tests))
    for select in ([targeted] if targeted and not _all_of_them(project, targeted) else []) + [None]:
        run = project.run_tests(trial.sandbox, select=select, deselect=project.flaky_tests)
        judged = judge(run, project.suite)
        if not judged.passed:
            scope = f"{len(targeted)} targeted tests" if select else "the test suite"
            return Verdict(False, "tests", f"{scope}: {judged.reason}")
        if select is None:
            trial.suite = _suite_summary(run.outcomes, judged.reason)
    return None


def _suite_summary(outcomes: dict[str, str] | None, reason: str) -> str:
    """``505 passed, 1 skipped`` from the trusted records; the judgement's words without."""
    if not outcomes:
        return reason
    counts = Counter(outcomes.values())
    return ", ".join(f"{counts[kind]} {kind}" for kind in ("passed", "skipped") if counts[kind])


def _all_of_them(project: Project, targeted: list[str]) -> bool:
    """Whether the targeted tests are the whole suite: then one run of it is enough."""
    suite = project.suite
    if suite is None or not suite.per_test:
        return False
    flaky = project.flaky_tests
    return set(suite.expected(targeted, flaky)) == set(suite.expected(None, flaky))


def tamper(trial: Trial, bench: Bench) -> Verdict | None:
    """The files that judge the candidate are as they were before its code ran."""
    changed = trial.guard.changes()
    if not changed:
        return None
    return Verdict(False, "tamper", f"changes {', '.join(changed[:3])} while it runs")


# The stages in the order they run: ``agent.domain.STAGES`` names them, in this order.
READING: tuple[Stage[Candidate], ...] = (
    Check("reply", reply),
    Check("parse", parse),
    Check("scope", scope),
    Check("capability", capability),
)
RUNNING: tuple[Stage[Trial], ...] = (
    Check("import", imports),
    Check("equivalence", equivalent),
    Check("tests", tests),
    Check("speed", speed),
)
CASCADE: tuple[Stage[Any], ...] = (*READING, *RUNNING)
TAMPER: Stage[Trial] = Check("tamper", tamper)  # after every stage that runs the candidate

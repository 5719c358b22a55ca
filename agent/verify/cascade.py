"""The verification cascade: cheapest checks first, stop at the first failure."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass, field

from agent.domain import NOT_COMPARED, Candidate, Target, Timing, Verdict
from agent.profile.recording import Recording
from agent.project.runner import Project, is_pytest
from agent.project.workspace import Workspace
from agent.verify import equivalence as same
from agent.verify.capabilities import check_capabilities
from agent.verify.endtoend import EndToEnd, EndToEndError, Measured, Reach, Rejected, reach
from agent.verify.harness import HarnessError
from agent.verify.scope import check_static
from agent.verify.suite import judge
from agent.verify.tamper import Snapshot
from agent.verify.timing import Comparison, TimingError, TimingPlan, compare
from agent.verify.untrusted import scrub
from sandbox import Sandbox


@dataclass
class Bench:
    """Everything needed to judge the candidates of one target."""

    project: Project
    workspace: Workspace
    target: Target
    recording: Recording
    min_speedup: float
    original: Sandbox | None = None  # a copy of the current state: the side to beat
    plan: TimingPlan = field(default_factory=TimingPlan)
    timing_lock: threading.Lock = field(default_factory=threading.Lock)
    rel_tol: float = 1e-9  # floats this close count as equal in the differential check
    property_examples: int = 50  # generated inputs per target for the property check
    strict_behaviour: bool = False  # a difference on a probe rejects
    check_timeout: float = 300.0  # seconds per import, behaviour or generation process
    _behaviour: same.Behaviour | None = None
    _behaviour_lock: threading.Lock = field(default_factory=threading.Lock)
    _reach: Reach | None = None  # what reaches the target, when judged end to end

    @property
    def per_call(self) -> bool:
        """Whether calls were recorded to compare and time the target on, one by one."""
        return bool(self.recording.workload_calls or self.recording.test_calls)

    @property
    def reached(self) -> bool:
        """Whether the workload or the tests reach the target at all (calls were seen, if not
        recorded, or the profile counted some)."""
        profile = self.target.profile
        seen = profile is not None and profile.calls > 0
        return self.per_call or bool(self.recording.skipped or self.recording.tests or seen)

    def unrecorded(self) -> str:
        """Why no call could be compared: ``566 calls, arguments not picklable``."""
        skipped = self.recording.skipped
        if skipped:
            return f"{skipped} calls, arguments not picklable"
        return "no call recorded, though the profile counts some"

    def end_to_end(self, candidate: Sandbox) -> EndToEnd:
        """A comparison of the original and ``candidate`` on what reaches the target."""
        assert self.original is not None, "the loop provides the original's sandbox"
        if self._reach is None:
            self._reach = reach(self.project, self.original, self.recording)
        profile = self.target.profile
        return EndToEnd(
            self.project,
            self._reach,
            self.original,
            candidate,
            self.plan,
            self.min_speedup,
            share=None if profile is None else profile.share,
            share_seconds=None if profile is None else profile.own_time,
        )

    @property
    def file_source(self) -> str:
        """The target's file as it stands (earlier winners applied)."""
        return (self.workspace.state / self.target.ref.path).read_text(encoding="utf-8")

    def behaviour(self) -> same.Behaviour:
        """What the original does on real, generated and probe calls; observed once per target."""
        with self._behaviour_lock:
            if self._behaviour is None and not self.per_call:  # nothing to observe it on
                self._behaviour = same.Behaviour([], [], [], [], [], [], frozenset())
            if self._behaviour is None:
                assert self.original is not None, "the loop provides the original's sandbox"
                real = self._real_calls()
                ref = self.target.ref
                generated = same.generate_inputs(
                    self.project,
                    self.original,
                    ref,
                    list(real),
                    self.property_examples,
                    self.check_timeout,
                )
                calls = [*real, *generated.calls, *generated.probes]
                origins = [
                    *real.values(),
                    *["generated"] * len(generated.calls),
                    *["probe"] * len(generated.probes),
                ]
                behaviour = same.reference(
                    self.project, self.original, ref, calls, origins, self.check_timeout
                )
                if generated.note:
                    notes = (*behaviour.notes, generated.note)
                    behaviour = dataclasses.replace(behaviour, notes=notes)
                self._behaviour = behaviour
            return self._behaviour

    def _real_calls(self) -> dict[bytes, str]:
        """The recorded calls and where each came from: the workload's are "recorded", unless
        the workload is the test suite; the tests' are "test"."""
        recording = self.recording
        found = dict.fromkeys(recording.test_calls, "test")
        if recording.workload_calls != recording.test_calls:
            found.update(dict.fromkeys(recording.workload_calls, "recorded"))
        return found

    def notes(self) -> tuple[str, ...]:
        """What the behaviour check could not do, if it ran."""
        notes = () if self._behaviour is None else self._behaviour.notes
        if self._reach is not None:
            how = f"judged end to end on {self._reach.description}"
            notes = (*notes, f"behaviour not compared per call ({self.unrecorded()}): {how}")
        return notes


@dataclass
class Trial:
    """One candidate under test: its sandbox, and what the stages learned about it."""

    candidate: Candidate
    sandbox: Sandbox
    judgement: same.Judgement | None = None
    not_compared: list[str] = field(default_factory=list)  # stages that compared nothing
    endtoend: EndToEnd | None = None  # when judged end to end
    suite: str | None = None  # what the whole suite's run showed: "506 tests ran and passed"


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
    if candidate.problem is not None:
        return Verdict(False, "reply", candidate.problem)
    static = check_static(candidate, bench.target, bench.file_source)
    if static:
        return Verdict(False, *static)
    # Before anything runs: the candidate may reach only what its original reaches.
    new_source = candidate.files[bench.target.ref.path]
    reach = check_capabilities(bench.file_source, new_source, bench.target.ref.qualname)
    if reach is not None:
        return Verdict(False, "capability", reach)
    with bench.workspace.sandbox(f"candidate-{candidate.id}") as sandbox:
        for path, text in candidate.files.items():
            sandbox.write_file(path, text)
        # The files that judge the candidate (tests, conftest, configuration, and the candidate
        # itself) must be the same after each stage as before it: its code runs in every stage.
        guard = Snapshot.take(sandbox.work)
        trial = Trial(candidate, sandbox)
        verdict = _stages(bench, trial, guard)
        return dataclasses.replace(verdict, not_compared=tuple(trial.not_compared))


def _stages(bench: Bench, trial: Trial, guard: Snapshot) -> Verdict:
    for stage in (imports, equivalent, tests, speed):
        verdict = stage(bench, trial)
        changed = guard.changes()
        if changed:
            return Verdict(False, "tamper", f"changes {', '.join(changed[:3])} while it runs")
        if verdict is not None:
            return verdict
    raise AssertionError("the speed stage always decides")


def imports(bench: Bench, trial: Trial) -> Verdict | None:
    sandbox = trial.sandbox
    module = bench.target.ref.module
    imported = bench.project.import_module(sandbox, module, timeout=bench.check_timeout)
    if imported.ok:
        return None
    tail = (imported.stderr.strip().splitlines() or ["timed out"])[-1]
    return Verdict(False, "import", f"import {module} fails: {tail[:200]}")


def equivalent(bench: Bench, trial: Trial) -> Verdict | None:
    """The differential and property check: the same outcomes as the original's.

    With no call recorded to compare on, it compares nothing per call, and says so: the
    behaviour is judged on what the workload shows instead (its output and exit code, here),
    and the tests stage follows as ever.
    """
    if not bench.per_call:
        trial.not_compared.append("equivalence")
        return _workload_behaviour(bench, trial) if bench.reached else None
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


def tests(bench: Bench, trial: Trial) -> Verdict | None:
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


def _short_of(interval: str, bar: str, undecided: bool, processes: int, spent: str) -> str:
    """Why an interval that reaches below the bar rejects: undecided when the budget ran out
    with the interval still straddling it, which is not the same as slower, and says so."""
    if not undecided:
        return f"not proven faster: {interval} reaches below {bar}"
    return (
        f"too noisy to decide: {interval} straddles {bar} after {processes} processes a side "
        f"({spent}); a larger --timing-budget or a quieter machine would decide it"
    )


def speed(bench: Bench, trial: Trial) -> Verdict:
    calls = bench.recording.timing_calls
    if not calls and bench.reached:
        return _speed_end_to_end(bench, trial)
    if not calls:
        why = (
            f"{bench.recording.skipped} calls had arguments that could not be pickled"
            if bench.recording.skipped
            else "the workload and tests never called it"
        )
        return Verdict(False, "speed", f"no recorded calls to time it on: {why}")
    assert bench.original is not None, "the loop provides the original's sandbox"
    try:
        with bench.timing_lock:  # never time two things at once
            comparison = compare(
                bench.project,
                bench.original,
                trial.sandbox,
                bench.target.ref,
                calls,
                bench.plan,
                min_speedup=bench.min_speedup,
            )
    except TimingError as error:
        return Verdict(False, "speed", str(error))
    timing = comparison.timing
    if comparison.clock_patched:
        names = ", ".join(f"time.{name}" for name in sorted(comparison.clock_patched))
        return Verdict(False, "speed", f"replaces {names}: a clock is not its to change", timing)
    changed = _changed_while_timed(bench.behaviour(), trial, comparison, calls)
    if changed is not None:
        return Verdict(False, "equivalence", changed, timing)
    low, high = timing.ci
    if low < bench.min_speedup:
        interval = f"{timing.level} interval {low:.2f}–{high:.2f}×"
        why = _short_of(
            interval, f"{bench.min_speedup}×", comparison.undecided, comparison.processes,
            f"{comparison.seconds:.0f}s, budget {bench.plan.budget:.0f}s",
        )  # fmt: skip
        return Verdict(False, "speed", why, timing)
    if timing.first_call < bench.min_speedup:
        why = f"not faster on first calls ({timing.first_call:.2f}×), only on repeated ones"
        return Verdict(False, "speed", why, timing)
    tested = f"{len(bench.recording.tests)} targeted tests, " if bench.recording.tests else ""
    checked = bench.behaviour().describe()
    assert trial.judgement is not None, "the equivalence stage ran first"
    return Verdict(
        True,
        "speed",
        f"same outcomes on {checked}; {tested}full suite; timed on {len(calls)} recorded calls",
        timing,
        evidence=_evidence(bench, trial.judgement, timing, len(calls)),
        probe_differences=trial.judgement.probe_differences,
    )


def _evidence(
    bench: Bench, judgement: same.Judgement, timing: Timing, calls: int
) -> dict[str, str]:
    """What each check showed, one sentence each, for reports and pull requests."""
    behaviour = bench.behaviour()
    counts = behaviour.counts()
    low, high = timing.ci
    differential = (
        f"same results, exceptions and argument states as the original "
        f"on {counts['recorded']} calls recorded from the real workload and "
        f"{counts['test']} made by the tests"
        if behaviour.checkable
        else f"{NOT_COMPARED}: the original repeated no outcome to compare "
        f"({'; '.join(behaviour.notes) or 'no call could be observed'})"
    )
    return {
        "tests": _tests_evidence(bench),
        "capabilities": _CAPABILITIES,
        "differential": differential,
        "property": f"same outcomes as the original on {counts['generated']} inputs generated "
        "within the domain the real calls show (hypothesis; where the original raises, "
        "the change raises too)",
        "probes": _probe_evidence(judgement, counts["probe"]),
        "timing": f"{timing.speedup:.2f}× faster ({timing.level} interval {low:.2f}–{high:.2f}×, "
        f"first calls {timing.first_call:.2f}×), alternating fresh processes timed by Evolver "
        f"from outside them, on {calls} recorded calls",
    }


_CAPABILITIES = (
    "reaches nothing its original does not: the same modules, builtins, environment, files "
    "and processes, and no new code at import (checked before it ran)"
)


def _tests_evidence(bench: Bench) -> str:
    targeted = len(bench.recording.tests)
    if not targeted:
        passed = "the whole test suite passes"
    elif targeted == 1:
        passed = "the test that reaches it, then the whole test suite, pass"
    else:
        passed = f"the {targeted} tests that reach it, then the whole test suite, pass"
    how = (
        "each test's outcome checked against the baseline's"
        if is_pytest(bench.project.tests_argv)
        else "exit code only, not per test"
    )
    return f"{passed} ({how})"


def _probe_evidence(judgement: same.Judgement, probes: int) -> str:
    if not judgement.probes_differing:
        return f"same outcomes on {probes} probes, inputs of shapes no real call or test used"
    shown = "; ".join(f"`{d.call}` {d.difference}" for d in judgement.probe_differences[:2])
    more = judgement.probes_differing - min(2, len(judgement.probe_differences))
    rest = f" (and {more} more of {probes} probes)" if more else f" (of {probes} probes)"
    return f"differs only on inputs no real call or test used: {shown}{rest}"


def _changed_while_timed(
    behaviour: same.Behaviour, trial: Trial, comparison: Comparison, calls: list[bytes]
) -> str | None:
    """A candidate must do while it is timed exactly what it did while it was checked."""
    assert trial.judgement is not None, "the equivalence stage ran first"
    observed = trial.judgement.observed
    index = behaviour.index()
    original, candidate = comparison.seen
    for number, call in enumerate(calls):
        checked = index.get(call)
        if checked is None or checked not in behaviour.checkable:
            continue
        if original.get(number, set()) != {behaviour.digests[checked]}:
            continue  # the original itself varies from pass to pass here
        if candidate.get(number, set()) != {observed.digests.get(checked)}:
            given = same.render_call(behaviour.inputs[checked])
            return (
                f"on the recorded call {given}: behaves differently while timed than when checked"
            )
    return None


# Judging end to end, when no call could be recorded (see agent/verify/endtoend.py)


def _workload_behaviour(bench: Bench, trial: Trial) -> Verdict | None:
    """The first rounds of the end-to-end comparison: the workload's exit code and output, the
    original's run twice, the candidate's compared with them (timed too: they count). When the
    tests are what reaches the target, the tests stage judges, and timing starts after it."""
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


def _speed_end_to_end(bench: Bench, trial: Trial) -> Verdict:
    """The whole run's speedup, against the bar ``--min-speedup`` on the target gives it."""
    comparison = trial.endtoend or bench.end_to_end(trial.sandbox)
    try:
        with bench.timing_lock:  # never time two things at once
            measured = comparison.measure()
    except Rejected as rejected:
        return Verdict(False, rejected.stage, rejected.reason)
    except EndToEndError as error:
        return Verdict(False, "speed", f"cannot time it end to end: {error}")
    timing, bar = measured.timing, measured.bar.describe()
    where = f"end to end on {comparison.reach.description}"
    low, high = timing.ci
    interval = f"{timing.level} interval {low:.2f}–{high:.2f}×"
    if low < measured.bar.value:
        spent = f"{measured.seconds:.0f}s, budget {bench.plan.budget:.0f}s"
        why = _short_of(
            f"{where}, {interval}", f"the {bar}", measured.undecided, measured.processes,
            spent + _ceiling(measured.bar.share),
        )  # fmt: skip
        return Verdict(False, "speed", why, timing)
    tests = trial.suite or "the whole test suite passes"
    reason = (
        f"behaviour: {NOT_COMPARED} per call ({bench.unrecorded()}); "
        f"{comparison.output_note()}; tests: {tests}; timing: {where}, "
        f"{timing.speedup:.2f}× [{low:.2f}–{high:.2f}] ({bar})"
    )
    return Verdict(
        True, "speed", reason, timing, evidence=_end_to_end_evidence(bench, comparison, measured)
    )


def _ceiling(share: float | None) -> str:
    """What the whole run could gain at most: what decides whether more processes could
    ever settle it."""
    if share is None or share >= 0.5:
        return ""
    return (
        f"; at a {share:.0%} share the workload would be at most {1 / (1 - share):.3g}× "
        "faster even if the target took no time"
    )


def _end_to_end_evidence(bench: Bench, comparison: EndToEnd, measured: Measured) -> dict[str, str]:
    """What each check showed when the target was judged end to end: what was compared, and
    that the calls themselves were not."""
    timing = measured.timing
    low, high = timing.ci
    return {
        "tests": _tests_evidence(bench),
        "capabilities": _CAPABILITIES,
        "differential": f"{NOT_COMPARED} per call: {bench.unrecorded()}, so no call could be "
        "replayed; judged on what the workload and the tests observe instead",
        "workload": comparison.output_note(),
        "timing": f"{timing.speedup:.2f}× faster end to end on {comparison.reach.description} "
        f"({timing.level} interval {low:.2f}–{high:.2f}×, {measured.bar.describe()}): the "
        "whole run's speedup, the target's own diluted by the rest; alternating fresh "
        f"processes timed by Evolver from outside them, {measured.processes} a side",
    }

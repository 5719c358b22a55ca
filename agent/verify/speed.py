"""The last stage: the candidate is proven faster, on the recorded calls or end to end, and
the evidence an accepted candidate carries (what each check showed, one sentence each)."""

from __future__ import annotations

from agent.domain import NOT_COMPARED, Timing, Verdict
from agent.project.runner import is_pytest
from agent.reports import format as fmt
from agent.verify import equivalence as same
from agent.verify.bench import Bench, Trial
from agent.verify.endtoend import EndToEnd, EndToEndError, Measured, Rejected
from agent.verify.timing import Comparison, TimingError, compare


def speed(trial: Trial, bench: Bench) -> Verdict:
    """Proven faster by the bar, or rejected: this stage always decides."""
    calls = bench.recording.timing_calls
    if not calls and bench.reached:
        return _speed_end_to_end(trial, bench)
    if not calls:
        why = (
            f"{bench.recording.skipped} calls had arguments that could not be pickled"
            if bench.recording.skipped
            else "the workload and tests never called it"
        )
        return Verdict(False, "speed", f"no recorded calls to time it on: {why}")
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
        interval = f"{timing.level} interval {fmt.interval((low, high))}"
        why = _short_of(
            interval, f"{bench.min_speedup}×", comparison.undecided, comparison.processes,
            f"{comparison.seconds:.0f}s, budget {bench.plan.budget:.0f}s",
        )  # fmt: skip
        return Verdict(False, "speed", why, timing)
    if timing.first_call < bench.min_speedup:
        why = f"not faster on first calls ({fmt.times(timing.first_call)}), only on repeated ones"
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
        "timing": f"{fmt.times(timing.speedup)} faster ({timing.level} interval "
        f"{fmt.interval((low, high))}, first calls {fmt.times(timing.first_call)}), alternating "
        f"fresh processes timed by Evolver from outside them, on {calls} recorded calls",
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


# Judged end to end, when no call could be recorded (see agent/verify/endtoend.py)


def _speed_end_to_end(trial: Trial, bench: Bench) -> Verdict:
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
    interval = f"{timing.level} interval {fmt.interval((low, high))}"
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
        f"{fmt.times(timing.speedup)} [{low:.2f}–{high:.2f}] ({bar})"
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
        "timing": f"{fmt.times(timing.speedup)} faster end to end on "
        f"{comparison.reach.description} ({timing.level} interval {fmt.interval((low, high))}, "
        f"{measured.bar.describe()}): the whole run's speedup, the target's own diluted by the "
        "rest; alternating fresh processes timed by Evolver from outside them, "
        f"{measured.processes} a side",
    }


def _short_of(interval: str, bar: str, undecided: bool, processes: int, spent: str) -> str:
    """Why an interval that reaches below the bar rejects: undecided when the budget ran out
    with the interval still straddling it, which is not the same as slower, and says so."""
    if not undecided:
        return f"not proven faster: {interval} reaches below {bar}"
    return (
        f"too noisy to decide: {interval} straddles {bar} after {processes} processes a side "
        f"({spent}); a larger --timing-budget or a quieter machine would decide it"
    )

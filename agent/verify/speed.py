"""The last stage: the candidate is proven faster, on the recorded calls or end to end, and
the evidence an accepted candidate carries (what each check showed, one sentence each)."""

from __future__ import annotations

import dataclasses

from agent.domain import NOT_COMPARED, MemoryUse, Timing, Verdict
from agent.project.runner import is_pytest
from agent.reports import format as fmt
from agent.verify import equivalence as same
from agent.verify.bench import Bench, Trial
from agent.verify.endtoend import EndToEnd, EndToEndError, Measured, Rejected
from agent.verify.memory import (
    MemoryMeasureError,
    compare_memory,
    judge_memory,
    memory_evidence,
    untrustworthy,
)
from agent.verify.timing import TimingError, changed_while_timed, compare


def speed(trial: Trial, bench: Bench) -> Verdict:
    """Proven faster by the bar, or rejected: this stage always decides. With memory in the
    objective, its memory is judged first (``agent.verify.memory``), and decides the bar."""
    if trial.unit.class_level:
        return _speed_on_sequences(trial, bench)
    calls = bench.recording.timing_calls
    if not calls and bench.reached and bench.objective == "time":
        return _speed_end_to_end(trial, bench)
    if not calls:
        why = (
            f"{bench.recording.skipped} calls had arguments that could not be pickled"
            if bench.recording.skipped
            else "the workload and tests never called it"
            if not bench.reached
            else "its memory is judged on recorded calls only"
        )
        stage, what = ("speed", "time") if bench.objective == "time" else ("memory", "measure")
        return Verdict(False, stage, f"no recorded calls to {what} it on: {why}")
    bar, memory = bench.min_speedup, None
    if bench.objective != "time":
        judged = _judge_memory(trial, bench, calls)
        if isinstance(judged, Verdict):
            return judged
        bar, memory = judged
    try:
        with bench.timing_lock:  # never time two things at once
            comparison = compare(
                bench.project,
                bench.original,
                trial.sandbox,
                bench.target.ref,
                calls,
                bench.plan,
                min_speedup=bar,
            )
    except TimingError as error:
        return Verdict(False, "speed", str(error), memory=memory)
    timing = comparison.timing
    if comparison.clock_patched:
        names = ", ".join(f"time.{name}" for name in sorted(comparison.clock_patched))
        why = f"replaces {names}: a clock is not its to change"
        return Verdict(False, "speed", why, timing, memory=memory)
    changed = _changed_while_measured(bench.behaviour(), trial, comparison.seen, calls, "timed")
    if changed is not None:
        return Verdict(False, "equivalence", changed, timing, memory=memory)
    low, high = timing.ci
    if low < bar:
        interval = f"{timing.level} interval {fmt.interval((low, high))}"
        # A leaner candidate is judged on how much slower it may be.
        claim = "not proven faster" if bar >= 1 else "not proven within --max-slowdown"
        why = _short_of(
            interval, _bar_text(bar), comparison.undecided, comparison.processes,
            f"{comparison.seconds:.0f}s, budget {bench.plan.budget:.0f}s", claim,
            comparison.hopeless_at,
        )  # fmt: skip
        return Verdict(False, "speed", why, timing, memory=memory)
    if timing.first_call < bar:
        first = fmt.times(timing.first_call)
        why = (
            f"not faster on first calls ({first}), only on repeated ones"
            if bar >= 1
            else f"slower on first calls ({first}) than {_bar_text(bar)}"
        )
        return Verdict(False, "speed", why, timing, memory=memory)
    tested = f"{len(bench.recording.tests)} targeted tests, " if bench.recording.tests else ""
    checked = bench.behaviour().describe()
    assert trial.judgement is not None, "the equivalence stage ran first"
    evidence = _evidence(bench, trial.judgement, timing, len(calls))
    if memory is not None:
        evidence["memory"] = memory_evidence(memory, len(calls))
    measured = "measured" if memory is not None else "timed"
    return Verdict(
        True,
        "speed",
        f"same outcomes on {checked}; {tested}full suite; {measured} on {len(calls)} recorded "
        "calls",
        timing,
        evidence=evidence,
        probe_differences=trial.judgement.probe_differences,
        memory=memory,
    )


def _speed_on_sequences(trial: Trial, bench: Bench) -> Verdict:
    """A change to the target's class, timed as it was judged: on the recorded sequences of
    calls on real objects, each a fresh object's construction and then its calls in order, so
    that a costlier constructor is paid for (``timing.compare(..., sequences=True)``)."""
    if bench.objective != "time":
        why = "a change to the target's class is timed on sequences; its memory is not measured"
        return Verdict(False, "memory", why)
    behaviour = bench.sequence_behaviour()
    recorded = [
        s for s, o in zip(behaviour.sequences, behaviour.origins, strict=True) if o == "recorded"
    ]
    try:
        with bench.timing_lock:  # never time two things at once
            comparison = compare(
                bench.project, bench.original, trial.sandbox, bench.target.ref, recorded,
                bench.plan, min_speedup=bench.min_speedup, sequences=True,
            )  # fmt: skip
    except TimingError as error:
        return Verdict(False, "speed", str(error))
    timing = dataclasses.replace(comparison.timing, method="sequences")
    if comparison.clock_patched:
        names = ", ".join(f"time.{name}" for name in sorted(comparison.clock_patched))
        return Verdict(False, "speed", f"replaces {names}: a clock is not its to change", timing)
    changed = changed_while_timed(comparison)
    if changed is not None:
        return Verdict(False, "equivalence", changed, timing)
    low, high = timing.ci
    bar = bench.min_speedup
    if low < bar:
        why = _short_of(
            f"{timing.level} interval {fmt.interval((low, high))} on sequences", _bar_text(bar),
            comparison.undecided, comparison.processes,
            f"{comparison.seconds:.0f}s, budget {bench.plan.budget:.0f}s",
            hopeless_at=comparison.hopeless_at,
        )  # fmt: skip
        return Verdict(False, "speed", why, timing)
    if timing.first_call < bar:
        why = f"not faster on first passes ({fmt.times(timing.first_call)}), only on repeated ones"
        return Verdict(False, "speed", why, timing)
    checked = behaviour.describe()
    tested = f"{len(bench.recording.tests)} targeted tests, " if bench.recording.tests else ""
    evidence = {
        "tests": _tests_evidence(bench),
        "capabilities": _CAPABILITIES,
        "differential": f"same results, exceptions, argument states and public attributes as the "
        f"original on {checked} (construction, then each public call in order)",
        "timing": f"{fmt.times(timing.speedup)} faster ({timing.level} interval "
        f"{fmt.interval((low, high))}, first passes {fmt.times(timing.first_call)}), alternating "
        f"fresh processes timed by Evolver from outside them, on {len(recorded)} recorded "
        "sequences, construction included",
    }
    return Verdict(
        True,
        "speed",
        f"same outcomes on {checked}; {tested}full suite; timed on {len(recorded)} recorded "
        "sequences, construction included",
        timing,
        evidence=evidence,
    )


def _bar_text(bar: float) -> str:
    """The bar a speedup must clear, as said in a reason: ``1.05×``, or for a change judged on
    its memory, how much slower it may be."""
    return f"{bar}×" if bar >= 1 else f"{bar:.3g}× (at most {1 / bar:.3g}× slower)"


def _judge_memory(
    trial: Trial, bench: Bench, calls: list[bytes]
) -> Verdict | tuple[float, MemoryUse]:
    """A rejection on memory, or the bar the timing must then clear and the figures."""
    try:
        with bench.timing_lock:  # measured alone, as timings are
            comparison = compare_memory(
                bench.project, bench.original, trial.sandbox, bench.target.ref, calls,
                bench.check_timeout,
            )  # fmt: skip
    except MemoryMeasureError as error:
        return Verdict(False, "memory", str(error))
    problem = untrustworthy(comparison, len(calls))
    if problem is not None:
        return Verdict(False, "memory", problem, memory=comparison.use)
    changed = _changed_while_measured(bench.behaviour(), trial, comparison.seen, calls, "measured")
    if changed is not None:
        return Verdict(False, "equivalence", changed, memory=comparison.use)
    judged = judge_memory(
        comparison, bench.objective, bench.min_speedup, bench.min_memory_saving,
        bench.max_slowdown,
    )  # fmt: skip
    if judged.rejection is not None:
        return dataclasses.replace(judged.rejection, memory=comparison.use)
    return judged.time_bar, comparison.use


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


def _changed_while_measured(
    behaviour: same.Behaviour,
    trial: Trial,
    seen: tuple[dict[int, set[str]], dict[int, set[str]]],
    calls: list[bytes],
    how: str,
) -> str | None:
    """A candidate must do while it is timed (or its memory measured) exactly what it did while
    it was checked; ``seen`` is what each side's calls did then, call index → digests."""
    assert trial.judgement is not None, "the equivalence stage ran first"
    observed = trial.judgement.observed
    index = behaviour.index()
    original, candidate = seen
    for number, call in enumerate(calls):
        checked = index.get(call)
        if checked is None or checked not in behaviour.checkable:
            continue
        if original.get(number, set()) != {behaviour.digests[checked]}:
            continue  # the original itself varies from pass to pass here
        if candidate.get(number, set()) != {observed.digests.get(checked)}:
            given = same.render_call(behaviour.inputs[checked])
            return (
                f"on the recorded call {given}: behaves differently while {how} than when checked"
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
            spent + _ceiling(measured.bar.share), hopeless_at=measured.hopeless_at,
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


def _short_of(
    interval: str,
    bar: str,
    undecided: bool,
    processes: int,
    spent: str,
    claim: str = "not proven faster",
    hopeless_at: int = 0,
) -> str:
    """Why an interval that reaches below the bar rejects: undecided when the budget ran out
    with the interval still straddling it, which is not the same as slower, and says so; or
    when it stopped early, the processes within reach being too few to show it (so no larger
    budget is advised)."""
    if not undecided:
        return f"{claim}: {interval} reaches below {bar}"
    if hopeless_at:
        return (
            f"too noisy to decide: {interval} straddles {bar} after {processes} processes a "
            f"side ({spent}); stopped there: even at the interval's top, the {hopeless_at} a "
            "side within reach would not show it clears the bar"
        )
    return (
        f"too noisy to decide: {interval} straddles {bar} after {processes} processes a side "
        f"({spent}); a larger --timing-budget or a quieter machine would decide it"
    )

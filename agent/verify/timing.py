"""Time the original against a candidate on recorded calls: fresh processes, interleaved.

The figures that decide are ours: each timed region in a timing process is bracketed by marks
on its stdout, and the time between them is the region's time, as the kernel stamped each mark
when the process wrote it (``clocked_stdout``: a busy machine that keeps us from reading at
once does not shorten a region; where there are no stamps, when we read them). What the process
says of its own timings (it ran candidate code, so it may lie) is only cross-checked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from agent.domain import TargetRef, Timing
from agent.project.runner import Project
from agent.verify.answers import TimeAnswer
from agent.verify.harness import HarnessError, run_harness_with_result
from agent.verify.sequences import class_of
from agent.verify.stats import (
    Look,
    hopeless,
    look,
    look_confidence,
    look_schedule,
    reachable,
    speedup_interval,
)
from sandbox import Result, Sandbox


@dataclass(frozen=True)
class TimingPlan:
    """How much to measure: ``processes`` per side, each giving ``values`` samples.

    When the comparison has a bar to clear and is still undecided after ``processes``, more
    processes are taken, up to ``most_processes`` per side and ``budget`` wall seconds for the
    whole comparison (see ``compare``).
    """

    processes: int = 6
    values: int = 4
    most_processes: int = 24
    budget: float = 20.0
    # Seconds per sample; the loop count is calibrated to reach it. Long enough that losing a
    # scheduler time slice (~10 ms) to another process on a busy machine is noise, not signal.
    min_time: float = 0.05
    timeout: float = 300.0


class TimingError(Exception):
    """A timing process failed; the message says how."""


# The process's own total may differ from ours by the cost of writing a mark, and, where the
# marks are not stamped, by how late we read them; beyond this share (and this many seconds
# per region) it is not a clock we can believe.
_CLOCK_TOLERANCE = 0.3
_CLOCK_SLACK = 0.003
# A sample shorter than a quarter of the plan's (and than this) is measured again with more
# loops, so that a mark's cost (or, unstamped, our reading latency) stays small beside it (at
# most so many times, up to so many loops a sample).
_MIN_REGION = 0.005
_RECALIBRATIONS = 4
_MAX_LOOPS = 10_000  # until the original's calibrating process has measured a loop's cost
_MAX_MEASURED_LOOPS = 1_000_000
_LOOP_MEMORY = 512 * 1024 * 1024  # what a timing process may hold for a sample's loops
# A first pass shorter than this is below what our clock resolves: the first-call gate then
# uses the process's own figure, bounded by ours.
_FIRST_RESOLVED = 0.005


def clocked_regions(result: Result, regions: int) -> list[float]:
    """Seconds between each ``[`` and its ``]`` mark, by when they were written (or read).

    The channel must carry exactly ``regions`` pairs of marks and nothing else.
    """
    expected = "[]" * regions
    if result.stdout != expected:
        shown = result.stdout[:40].encode("unicode_escape").decode()
        raise TimingError(
            f"timing process sent {shown!r} on its timing channel, not {regions} marks"
        )
    arrivals = []
    times = iter(result.stdout_times)
    end, arrived = 0, 0
    for offset in range(len(expected)):
        while end <= offset:
            end, arrived = next(times, (len(expected), 0))
        arrivals.append(arrived)
    return [(arrivals[i + 1] - arrivals[i]) / 1e9 for i in range(0, len(arrivals), 2)]


class _TooShort(Exception):
    """The samples were too short for our clock to resolve; ``seconds`` is the shortest."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


def _believed(
    answer: TimeAnswer, clocked: list[float], loops: int, shortest: float
) -> tuple[float, list[float]]:
    """Our first-pass and per-loop sample figures, once the process's own agree with them."""
    if answer.loops != loops:
        raise TimingError(f"timing process ran {answer.loops} loops where it was told {loops}")
    if min(clocked[1:]) < shortest:
        raise _TooShort(min(clocked[1:]))
    ours = sum(clocked[1:])
    theirs = sum(answer.values) * loops
    tolerance = max(_CLOCK_TOLERANCE * ours, _CLOCK_SLACK * len(clocked))
    # More work than we saw between its marks: they came early, or its clock lies. Less is
    # what a process preempted or traced between reading its clock and writing a mark shows:
    # ours, the figure that decides, is then only the more pessimistic; but its own figures
    # are not believed for anything (the first pass below).
    if theirs - ours > tolerance:
        raise TimingError(
            f"timing process reported {theirs:.4f}s of timed work where we measured {ours:.4f}s: "
            "its clock is not to be believed"
        )
    agrees = ours - theirs <= tolerance
    # A first pass too short for our clock: its own figure, as long as ours does not refute it.
    first = clocked[0]
    if first < _FIRST_RESOLVED and agrees:
        first = max(min(answer.first, first + _FIRST_RESOLVED), 1e-9)
    return first, [value / loops for value in clocked[1:]]


@dataclass(frozen=True)
class Comparison:
    """A timing, and what each side's calls did while they were timed.

    ``seen`` maps each call's index (each sequence's, timed on sequences) to the digests of its
    observed outcomes, for the original and for the candidate, over all their processes;
    ``clock_patched`` names the ``time`` functions the candidate replaced.

    ``timing.confidence`` is the two-sided level of its interval; ``processes`` how many processes
    per side it rests on; ``undecided`` that it still straddles the bar it was asked about
    when the budget, or the most processes the plan allows, ran out (too noisy to say, which
    is not the same as slower); ``hopeless_at``, when it stopped short of those because the
    processes it could still reach (so many a side) would not show the bar cleared even at
    the top of the interval (``stats.hopeless``), else 0; ``seconds`` the wall time the
    comparison took.
    """

    timing: Timing
    seen: tuple[dict[int, set[str]], dict[int, set[str]]]
    clock_patched: frozenset[str]
    processes: int = 0
    undecided: bool = False
    seconds: float = 0.0
    hopeless_at: int = 0


def compare(
    project: Project,
    original: Sandbox,
    candidate: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    plan: TimingPlan,
    min_speedup: float | None = None,
    sequences: bool = False,
) -> Comparison:
    """Alternate original and candidate processes (A B B A …).

    With ``sequences``, ``calls`` are recorded sequences on objects of ``target``'s class
    (``Recording.sequences``), each timed as one call, construction included: a change to the
    whole class pays for a costlier constructor. (Per-call pickles of ``self`` come from the
    original class and lack a candidate's private attributes.) Its digests describe objects of
    the class by their public state, so the two sides' compare (:func:`changed_while_timed`).

    Both sides start at the loop count the original calibrates; a side whose samples are too
    short for our clock (a much faster candidate) gets more loops, so that each figure is one
    we measured.

    Stops early when, after two rounds of more planned, the candidate is clearly slower: no
    interval will make it a winner and the time is better spent elsewhere (no sequential
    rounds follow then, and ``undecided`` stays false).

    Without ``min_speedup``: ``plan.processes`` rounds and a 95% interval. With it, the
    comparison is sequential: after the planned rounds, while the interval straddles
    ``min_speedup``, more rounds (in pairs, keeping the alternation balanced) until the next
    look of ``stats.look_schedule`` (up to ``plan.most_processes``), and a look again; it
    stops when a look decides, or before a pair of rounds would overrun ``plan.budget`` (that
    look then comes early). Every look uses the stricter level ``stats.look_confidence``
    gives for the most looks the schedule has, so that looking again and again cannot raise
    the chance of accepting code no faster than the bar above ``stats.FALSE_ACCEPT`` (1%).
    """
    started = time.monotonic()
    spec: dict[str, object] = {
        "mode": "time",
        "module": target.module,
        "qualname": class_of(target) if sequences else target.qualname,
        "sequences": sequences,
        "values": plan.values,
        "min_time": plan.min_time,
        "warmups": 1,
        "memory": _LOOP_MEMORY,
    }
    sides = (original, candidate)
    # Loops per sample, each side's own: we divide our clock's figure by the count we gave.
    loops: list[int | None] = [None, None]
    # Every loop's arguments are unpickled before a sample starts, and every loop's results
    # are kept until it ends: the original's calibrating process (which runs no candidate
    # code) measures what a loop holds and says how many loops fit in memory, with a copy of
    # the arguments each, or sharing one when its calls leave them as they were (then the
    # loops of a sample share one copy on both sides). Until it has spoken: a copy is at
    # least as large as its pickle.
    most = max(1, min(_MAX_LOOPS, _LOOP_MEMORY // max(1, sum(map(len, calls)))))
    seen: tuple[dict[int, set[str]], dict[int, set[str]]] = ({}, {})
    patched: set[str] = set()

    def run_once(side: int) -> tuple[float, list[float]]:
        nonlocal most, spec
        try:
            answer, result = run_harness_with_result(
                project,
                sides[side],
                "evolver_timer.py",
                {**spec, "loops": loops[side]},
                calls,
                plan.timeout,
                TimeAnswer,
                clocked=True,
            )
        except HarnessError as error:
            raise TimingError(f"timing process {error}") from None
        if loops[side] is None:  # only the original calibrates: its sandbox has no candidate
            loops[side] = answer.loops
            # Its loops copied the arguments its calls change and shared the others: every
            # later process, on both sides, does the same, within the same bound.
            if answer.unchanged:
                spec = {**spec, "share": True}
            elif answer.changed is not None and len(answer.changed) == len(calls):
                spec = {**spec, "fresh": answer.changed}
            most = min(_MAX_MEASURED_LOOPS, answer.most_loops)
        told = loops[side]
        assert told is not None
        if len(answer.values) != plan.values:
            raise TimingError("timing process gave another number of samples than asked")
        clocked = clocked_regions(result, 1 + plan.values)
        # Samples a quarter of the plan's, unless no more loops can be had: then what we resolve.
        shortest = _MIN_REGION if told >= most else max(plan.min_time / 4, _MIN_REGION)
        first, values = _believed(answer, clocked, told, shortest)
        for index, digests in answer.checks.items():
            seen[side].setdefault(int(index), set()).update(digests)
        if side == 1:
            patched.update(answer.clock_patched)
        return first, values

    def run(side: int) -> tuple[float, list[float]]:
        """One process; a side too fast for our clock at its loop count gets more loops."""
        for _ in range(_RECALIBRATIONS):
            try:
                return run_once(side)
            except _TooShort as short:
                told = loops[side] or 1
                if told >= most:
                    break
                grow = plan.min_time / max(short.seconds, plan.min_time / 64)
                loops[side] = min(most, told * max(2, math.ceil(grow)))
        raise TimingError(
            f"too fast to time from outside the process, even at {loops[side]} loops a sample"
        )

    run(0)
    loops[1] = loops[0]
    warm: tuple[list[float], list[float]] = ([], [])
    first: tuple[list[float], list[float]] = ([], [])

    def one_round() -> None:
        rounds = len(first[0])
        for side in (0, 1) if rounds % 2 == 0 else (1, 0):
            first_pass, values = run(side)
            warm[side].extend(values)
            first[side].append(first_pass)

    clearly_slower = False
    for round_ in range(plan.processes):
        one_round()
        # Only when it saves rounds: the planned ones, and any sequential ones after them.
        early = round_ == 1 and plan.processes > 2
        if early and median(warm[0]) / median(warm[1]) < 0.9:
            clearly_slower = True
            break
    undecided, hopeless_at = False, 0
    if min_speedup is None:
        speedup, interval = speedup_interval(*warm, per_process=plan.values)
        confidence = 0.95
    else:
        schedule = look_schedule(plan.processes, plan.most_processes)
        confidence = look_confidence(len(schedule))
        seen_last = look(warm[0], warm[1], plan.values, min_speedup, confidence)
        if not clearly_slower:
            seen_last, hopeless_at = _sequential(
                plan, schedule, seen_last, warm, one_round, started
            )
            undecided = seen_last.decision == "undecided"
        speedup, interval = seen_last.speedup, seen_last.interval
    first_call = median(first[0]) / median(first[1])
    timing = Timing(speedup, interval, len(warm[0]), first_call, confidence)
    return Comparison(
        timing,
        seen,
        frozenset(patched),
        processes=len(first[0]),
        undecided=undecided,
        seconds=time.monotonic() - started,
        hopeless_at=hopeless_at,
    )


def changed_while_timed(comparison: Comparison) -> str | None:
    """Why the candidate did other things while timed than the original did, or ``None``.

    For a comparison on sequences (``compare(..., sequences=True)``), which have no per-call
    behaviour observed beforehand to hold the timed digests against: each sequence whose
    digests are one value over all the original's processes (else it varies by itself and
    judges nothing) must give the candidate that value, and only that, in every process.
    """
    original, candidate = comparison.seen
    for number in sorted(original):
        if len(original[number]) == 1 and candidate.get(number, set()) != original[number]:
            return (
                f"on recorded sequence {number + 1}: behaves differently while timed than the "
                "original does"
            )
    return None


def _sequential(
    plan: TimingPlan,
    schedule: list[int],
    seen: Look,
    warm: tuple[list[float], list[float]],
    one_round: Callable[[], None],
    started: float,
) -> tuple[Look, int]:
    """After ``seen``, the look at the planned rounds: add rounds and look again (at the same
    level and bar) while undecided, and while the processes still within reach could decide
    it (else it stops, and says how many were within reach; 0 when it did not stop so).

    Rounds come in pairs (A B, B A) so that drift touches both sides alike; a pair is only
    started when, at the pace so far, it ends within the budget. When the budget stops the
    rounds short of a look, the look is taken there: it is still one of the schedule's looks,
    so the error the schedule allows is not exceeded.
    """
    confidence, bar = seen.confidence, seen.bar
    rounds = len(warm[0]) // plan.values
    for processes in schedule[1:]:
        if seen.decision != "undecided":
            break
        reach = reachable(rounds, time.monotonic() - started, plan.budget, plan.most_processes)
        if hopeless(seen, reach):
            return seen, reach
        added = 0
        while rounds + added < processes:
            pace = (time.monotonic() - started) / (rounds + added)
            if time.monotonic() - started + 2 * pace > plan.budget:
                break
            for _ in range(min(2, processes - rounds - added)):
                one_round()
                added += 1
        if not added:
            break
        rounds += added
        seen = look(warm[0], warm[1], plan.values, bar, confidence)
        if rounds < processes:  # out of budget
            break
    return seen, 0

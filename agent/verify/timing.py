"""Time the original against a candidate on recorded calls: fresh processes, interleaved.

The figures that decide are ours: each timed region in a timing process is bracketed by marks
on its stdout, and the time between their arrivals here is the region's time. What the process
says of its own timings (it ran candidate code, so it may lie) is only cross-checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from agent.domain import TargetRef, Timing
from agent.project import Project
from agent.verify.harness import HarnessError, run_harness_with_result
from agent.verify.stats import speedup_interval
from sandbox import Result, Sandbox


@dataclass(frozen=True)
class TimingPlan:
    """How much to measure: ``processes`` per side, each giving ``values`` samples."""

    processes: int = 6
    values: int = 4
    # Seconds per sample; the loop count is calibrated to reach it. Long enough that losing a
    # scheduler time slice (~10 ms) to another process on a busy machine is noise, not signal.
    min_time: float = 0.05
    timeout: float = 300.0


class TimingError(Exception):
    """A timing process failed; the message says how."""


# The process's own total may differ from ours by pipe latency and scheduling; beyond this
# share (and this many seconds per region) it is not a clock we can believe.
_CLOCK_TOLERANCE = 0.3
_CLOCK_SLACK = 0.003
# A first pass shorter than this is below what our clock resolves through a pipe: the first-call
# gate then uses the process's own figure, bounded by ours.
_FIRST_RESOLVED = 0.005


def clocked_regions(result: Result, regions: int) -> list[float]:
    """Seconds between each ``[`` and its ``]`` mark, by when they arrived here.

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


def _believed(
    output: dict[str, Any], clocked: list[float], loops: int
) -> tuple[float, list[float]]:
    """Our first-pass and per-loop sample figures, once the process's own agree with them."""
    ours = sum(clocked[1:])
    theirs = sum(output["values"]) * loops
    if abs(ours - theirs) > max(_CLOCK_TOLERANCE * ours, _CLOCK_SLACK * len(clocked)):
        raise TimingError(
            f"timing process reported {theirs:.4f}s of timed work where we measured {ours:.4f}s: "
            "its clock is not to be believed"
        )
    if not all(clocked[1:]):
        raise TimingError("timing process could not be timed from outside: the machine is too busy")
    # A first pass too short for our clock: its own figure, as long as ours does not refute it.
    first = clocked[0]
    if first < _FIRST_RESOLVED:
        first = max(min(output["first"], first + _FIRST_RESOLVED), 1e-9)
    return first, [value / loops for value in clocked[1:]]


def _validated(output: Any, values: int) -> dict[str, Any]:
    """The timing answer, if it has the shape the harness writes; else a TimingError."""
    try:
        assert isinstance(output, dict)
        assert type(output["loops"]) is int and 1 <= output["loops"] <= 10_000
        assert type(output["first"]) in (int, float) and output["first"] >= 0
        assert isinstance(output["values"], list) and len(output["values"]) == values
        assert all(type(v) in (int, float) and v >= 0 for v in output["values"])
        assert isinstance(output["checks"], dict)
        for index, digests in output["checks"].items():
            assert index.isdigit() and isinstance(digests, list)
            assert all(isinstance(d, str) and len(d) <= 64 for d in digests)
        assert isinstance(output["clock_patched"], list)
        assert all(isinstance(name, str) and len(name) <= 40 for name in output["clock_patched"])
    except (AssertionError, KeyError, TypeError, AttributeError):
        raise TimingError("timing process gave an answer of the wrong shape") from None
    return output


@dataclass(frozen=True)
class Comparison:
    """A timing, and what each side's calls did while they were timed.

    ``seen`` maps each call's index to the digests of its observed outcomes, for the original
    and for the candidate, over all their processes; ``clock_patched`` names the ``time``
    functions the candidate replaced.
    """

    timing: Timing
    seen: tuple[dict[int, set[str]], dict[int, set[str]]]
    clock_patched: frozenset[str]


def compare(
    project: Project,
    original: Sandbox,
    candidate: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    plan: TimingPlan,
) -> Comparison:
    """Alternate original and candidate processes (A B B A …), the same loop count for both.

    Stops early when, after two rounds, the candidate is clearly slower: no interval will
    make it a winner and the time is better spent elsewhere.
    """
    spec: dict[str, object] = {
        "mode": "time",
        "module": target.module,
        "qualname": target.qualname,
        "values": plan.values,
        "min_time": plan.min_time,
        "loops": None,
        "warmups": 1,
    }
    sides = (original, candidate)
    seen: tuple[dict[int, set[str]], dict[int, set[str]]] = ({}, {})
    patched: set[str] = set()

    def run(side: int) -> tuple[dict[str, Any], float, list[float]]:
        try:
            answer, result = run_harness_with_result(
                project, sides[side], "evolver_timer.py", spec, calls, plan.timeout
            )
        except HarnessError as error:
            raise TimingError(f"timing process {error}") from None
        output = _validated(answer, plan.values)
        loops = spec["loops"] or output["loops"]
        assert isinstance(loops, int)
        first, values = _believed(output, clocked_regions(result, 1 + plan.values), loops)
        for index, digests in output["checks"].items():
            seen[side].setdefault(int(index), set()).update(digests)
        if side == 1:
            patched.update(output["clock_patched"])
        return output, first, values

    # The loop count comes from the original alone, whose sandbox holds no candidate code.
    spec["loops"] = run(0)[0]["loops"]
    warm: tuple[list[float], list[float]] = ([], [])
    first: tuple[list[float], list[float]] = ([], [])
    for round_ in range(plan.processes):
        for side in (0, 1) if round_ % 2 == 0 else (1, 0):
            _, first_pass, values = run(side)
            warm[side].extend(values)
            first[side].append(first_pass)
        if round_ == 1 and median(warm[0]) / median(warm[1]) < 0.9:
            break
    speedup, interval = speedup_interval(*warm, per_process=plan.values)
    timing = Timing(speedup, interval, len(warm[0]), median(first[0]) / median(first[1]))
    return Comparison(timing, seen, frozenset(patched))

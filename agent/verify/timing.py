"""Time the original against a candidate on recorded calls: fresh processes, interleaved."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from agent.domain import TargetRef, Timing
from agent.project import Project
from agent.verify.harness import HarnessError, run_harness
from agent.verify.stats import speedup_interval
from sandbox import Sandbox


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

    def run(side: int) -> dict[str, Any]:
        try:
            output = run_harness(
                project, sides[side], "evolver_timer.py", spec, calls, plan.timeout
            )
        except HarnessError as error:
            raise TimingError(f"timing process {error}") from None
        for index, digests in output["checks"].items():
            seen[side].setdefault(int(index), set()).update(digests)
        if side == 1:
            patched.update(output["clock_patched"])
        return output

    spec["loops"] = run(0)["loops"]
    warm: tuple[list[float], list[float]] = ([], [])
    first: tuple[list[float], list[float]] = ([], [])
    for round_ in range(plan.processes):
        for side in (0, 1) if round_ % 2 == 0 else (1, 0):
            output = run(side)
            warm[side].extend(output["values"])
            first[side].append(output["first"])
        if round_ == 1 and median(warm[0]) / median(warm[1]) < 0.9:
            break
    speedup, interval = speedup_interval(*warm, per_process=plan.values)
    timing = Timing(speedup, interval, len(warm[0]), median(first[0]) / median(first[1]))
    return Comparison(timing, seen, frozenset(patched))

"""Time the original against a candidate on recorded calls: fresh processes, interleaved."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from statistics import median

from agent.domain import TargetRef, Timing
from agent.project import HARNESS_DIR, Project
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


_CALLS = "evolver-calls.pkl"


class TimingError(Exception):
    """A timing process failed; the message says how."""


def compare(
    project: Project,
    original: Sandbox,
    candidate: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    plan: TimingPlan,
) -> Timing:
    """Alternate original and candidate processes (A B B A …), the same loop count for both.

    Stops early when, after two rounds, the candidate is clearly slower: no interval will
    make it a winner and the time is better spent elsewhere.
    """
    spec = {
        "module": target.module,
        "qualname": target.qualname,
        "values": plan.values,
        "min_time": plan.min_time,
        "loops": None,
        "warmups": 1,
    }
    for sandbox in (original, candidate):  # each side reads its own copy of the inputs
        (sandbox.tmp / _CALLS).write_bytes(pickle.dumps(calls))
    spec["loops"] = _run(project, original, spec, plan)["loops"]
    warm: tuple[list[float], list[float]] = ([], [])
    first: tuple[list[float], list[float]] = ([], [])
    for round_ in range(plan.processes):
        for side in (0, 1) if round_ % 2 == 0 else (1, 0):
            output = _run(project, (original, candidate)[side], spec, plan)
            warm[side].extend(output["values"])  # type: ignore[arg-type]
            first[side].append(output["first"])  # type: ignore[arg-type]
        if round_ == 1 and median(warm[0]) / median(warm[1]) < 0.9:
            break
    speedup, interval = speedup_interval(*warm)
    return Timing(speedup, interval, len(warm[0]), median(first[0]) / median(first[1]))


def _run(
    project: Project, sandbox: Sandbox, spec: dict[str, object], plan: TimingPlan
) -> dict[str, object]:
    spec_file = sandbox.tmp / "evolver-timing.json"
    spec_file.write_text(json.dumps({**spec, "calls": str(sandbox.tmp / _CALLS)}))
    argv = [project.python, str(HARNESS_DIR / "evolver_timer.py"), str(spec_file)]
    result = sandbox.run(argv, timeout=plan.timeout, env=project.env(sandbox))
    if result.timed_out:
        raise TimingError(f"timing timed out after {plan.timeout:.0f}s")
    if not result.ok:
        tail = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
        raise TimingError(f"timing process failed: {tail[0][:200]}")
    output: dict[str, object] = json.loads(result.stdout)
    return output

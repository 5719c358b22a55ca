"""The verification cascade: cheapest checks first, stop at the first failure."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from agent.domain import Candidate, Target, Verdict
from agent.project import Project
from agent.recording import Recording
from agent.verify.scope import check_static
from agent.verify.timing import TimingError, TimingPlan, compare
from agent.workspace import Workspace
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

    @property
    def file_source(self) -> str:
        """The target's file as it stands (earlier winners applied)."""
        return (self.workspace.state / self.target.ref.path).read_text(encoding="utf-8")


def verify(candidate: Candidate, bench: Bench) -> Verdict:
    """Run the stages in order; the first that objects gives the verdict."""
    if candidate.problem is not None:
        return Verdict(False, "reply", candidate.problem)
    static = check_static(candidate, bench.target, bench.file_source)
    if static:
        return Verdict(False, *static)
    with bench.workspace.sandbox(f"candidate-{candidate.id}") as sandbox:
        for path, text in candidate.files.items():
            sandbox.write_file(path, text)
        for stage in (imports, tests, speed):
            verdict = stage(bench, sandbox)
            if verdict is not None:
                return verdict
    raise AssertionError("the speed stage always decides")


def imports(bench: Bench, sandbox: Sandbox) -> Verdict | None:
    module = bench.target.ref.module
    imported = bench.project.import_module(sandbox, module)
    if imported.ok:
        return None
    tail = (imported.stderr.strip().splitlines() or ["timed out"])[-1]
    return Verdict(False, "import", f"import {module} fails: {tail[:200]}")


def tests(bench: Bench, sandbox: Sandbox) -> Verdict | None:
    """The tests that reach the target first (they fail fastest), then the whole suite."""
    targeted = sorted(bench.recording.tests)
    for select in ([targeted] if targeted else []) + [None]:
        run = bench.project.run_tests(sandbox, select=select)
        if not run.ok:
            scope = f"{len(targeted)} targeted tests" if select else "the test suite"
            return Verdict(False, "tests", f"{scope}: {run.describe_failure()}")
    return None


def speed(bench: Bench, sandbox: Sandbox) -> Verdict:
    calls = bench.recording.timing_calls
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
            timing = compare(
                bench.project, bench.original, sandbox, bench.target.ref, calls, bench.plan
            )
    except TimingError as error:
        return Verdict(False, "speed", str(error))
    low, high = timing.ci
    if low < bench.min_speedup:
        why = (
            f"not proven faster: interval {low:.2f}–{high:.2f}× reaches below {bench.min_speedup}×"
        )
        return Verdict(False, "speed", why, timing)
    if timing.first_call < bench.min_speedup:
        why = f"not faster on first calls ({timing.first_call:.2f}×), only on repeated ones"
        return Verdict(False, "speed", why, timing)
    tested = f"{len(bench.recording.tests)} targeted tests, " if bench.recording.tests else ""
    return Verdict(
        True, "speed", f"{tested}full suite, timed on {len(calls)} recorded calls", timing
    )

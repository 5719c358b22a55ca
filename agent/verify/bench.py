"""What the stages of the cascade are given: the bench (one target, its original and its
recorded calls: the same for all its candidates) and the trial (one candidate in its sandbox)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from agent.domain import Candidate, Target, TargetRef
from agent.profile.recording import Recording, record_calls
from agent.project.runner import Project
from agent.project.workspace import Workspace
from agent.verify import equivalence as same
from agent.verify import sequences
from agent.verify.endtoend import EndToEnd, Reach, reach
from agent.verify.tamper import Snapshot
from agent.verify.timing import TimingPlan
from agent.verify.unit import Unit
from sandbox import Sandbox

# Sequences drawn from the recorded ones for the stateful probe, per target.
GENERATED_SEQUENCES = 30


@dataclass
class Bench:
    """Everything needed to judge the candidates of one target; complete when made (what it
    observes of the original, it observes once, on first need, for every candidate)."""

    project: Project
    workspace: Workspace
    target: Target
    recording: Recording
    min_speedup: float
    original: Sandbox  # a copy of the current state: the side to beat
    plan: TimingPlan = field(default_factory=TimingPlan)
    timing_lock: threading.Lock = field(default_factory=threading.Lock)
    rel_tol: float = 1e-9  # floats this close count as equal in the differential check
    property_examples: int = 50  # generated inputs per target for the property check
    strict_behaviour: bool = False  # a difference on a probe rejects
    check_timeout: float = 300.0  # seconds per import, behaviour or generation process
    objective: str = "time"  # "time", "memory" or "both" (see agent.verify.memory)
    min_memory_saving: float = 0.10
    max_slowdown: float = 1.05
    _behaviour: same.Behaviour | None = None
    _behaviour_lock: threading.Lock = field(default_factory=threading.Lock)
    _sequences: sequences.SequenceBehaviour | None = None
    _helpers: dict[str, tuple[TargetRef, same.Behaviour]] = field(default_factory=dict)
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
                self._behaviour = self._observe(self.target.ref, self.recording)
            return self._behaviour

    def sequence_behaviour(self) -> sequences.SequenceBehaviour:
        """What the original does on the recorded sequences of calls on objects of the
        target's class; observed once per target, for the candidates that change the class."""
        with self._behaviour_lock:
            if self._sequences is None:
                self._sequences = sequences.observe_probed(
                    self.project, self.original, self.target.ref, self.recording.sequences,
                    GENERATED_SEQUENCES, self.check_timeout,
                )  # fmt: skip
            return self._sequences

    def helper_behaviour(self, name: str) -> tuple[TargetRef, same.Behaviour]:
        """A function of the target's file that a candidate rewrites and other code uses: its
        calls recorded from the tests and the workload (on first need, in a sandbox of the
        current state), and what the original does on them and on inputs drawn from them."""
        with self._behaviour_lock:
            if name not in self._helpers:
                ref = TargetRef(self.target.ref.path, name)
                with self.workspace.sandbox(f"record-{name}") as sandbox:
                    recording = record_calls(self.project, sandbox, [ref])[ref]
                self._helpers[name] = (ref, self._observe(ref, recording))
            return self._helpers[name]

    def _observe(self, ref: TargetRef, recording: Recording) -> same.Behaviour:
        return same.observe_recording(
            self.project, self.original, ref, recording, self.property_examples,
            self.check_timeout,
        )  # fmt: skip

    def notes(self) -> tuple[str, ...]:
        """What the behaviour check could not do, if it ran."""
        notes = () if self._behaviour is None else self._behaviour.notes
        if self._sequences is not None:
            notes = (*notes, *self._sequences.notes)
        if self._reach is not None:
            how = f"judged end to end on {self._reach.description}"
            notes = (*notes, f"behaviour not compared per call ({self.unrecorded()}): {how}")
        return notes


@dataclass
class Trial:
    """One candidate under test: its sandbox, the files that judge it as they were before its
    code ran (``guard``), and what the stages learned about it."""

    candidate: Candidate
    sandbox: Sandbox
    guard: Snapshot
    unit: Unit  # what it changes besides its target
    judgement: same.Judgement | None = None
    not_compared: list[str] = field(default_factory=list)  # stages that compared nothing
    endtoend: EndToEnd | None = None  # when judged end to end
    suite: str | None = None  # what the whole suite's run showed: "506 tests ran and passed"

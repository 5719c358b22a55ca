"""Behaviour over sequences of calls on real objects: the original's, and a candidate's against it.

A change to a class (an index built in ``__init__`` and kept by ``add``, used by ``lookup``)
cannot be judged one call at a time: what a method does depends on every call made on the
object before it. The recorder keeps, for a sample of the objects the workload and the tests
construct, the constructor's call and then each public method called on the object, in
order (``_harness/evolver_sequence_recorder.py``); ``_harness/evolver_sequences.py`` replays
each on a new object in a sandbox and describes every step: what it returned or raised, the
arguments as it left them, and the object's public state after it (attributes without a
leading ``_``: a private attribute the candidate adds is its own business).

:func:`observe_sequences` replays them on the original twice, in two processes; a step whose
observation differs between the two (randomness, clocks, ids) judges nothing, like
``equivalence``'s calls. :func:`check_sequences` replays them on a candidate and names the first
step that differs: ``on recorded sequence 2, step 4 (lookup(3)): returns None where the
original returns {...}``.

Recordings show only the orders the workload and the tests happened to use: a candidate whose
``remove`` forgets its index passes every recording that never looks up after a removal.
:func:`generate_sequences` draws new sequences in the original's sandbox from the recorded
ones (``_harness/evolver_sequence_inputs.py``: recorded constructors, then recorded steps in
orders no recording had), and :func:`observe_sequences` takes them beside the recorded ones,
each with its origin. A generated sequence is held to every step the original repeats, but
as ``equivalence`` holds its generated calls: where the original's step fails in an operation
(a ``KeyError`` from ``index[key]``), any ``Exception`` from the candidate will do; where the
original refuses with a ``raise`` of its own, the type must match. The object's public state
after the step must match either way: the object lives on, and its next caller sees it.

Everything the sandbox returns is hostile data: a validated JSON answer
(:class:`~agent.verify.answers.SequencesAnswer`), never a pickle; the sequences themselves are
opaque bytes here, and every reason built from what the code under test controls is capped and
scrubbed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.domain import TargetRef
from agent.project.runner import Project
from agent.verify.answers import (
    MalformedAnswer,
    SequenceAnswer,
    SequenceInputsAnswer,
    SequencesAnswer,
)
from agent.verify.harness import HarnessError, run_harness
from agent.verify.outcomes import difference, render_call, state_difference
from agent.verify.untrusted import scrub
from sandbox import Sandbox

# How long one step may take when the original is observed; a candidate gets a multiple of
# the original's time for each step, and never less than HANG_FLOOR seconds.
STEP_LIMIT = 30.0
HANG_FACTOR = 20.0
HANG_FLOOR = 2.0
REASON_LIMIT = 400  # characters of a reason built from what the code under test controls
GENERATED_STEPS = 16  # method calls per generated sequence, after its constructor
GENERATION_SEED = "evolver-sequences"  # the same recordings draw the same sequences
Step = tuple[int, int]  # (sequence, step), both from 0
ORIGINS = ("recorded", "generated")  # where a sequence came from, the stronger evidence first


@dataclass(frozen=True)
class SequenceBehaviour:
    """What the original does on the sequences: the reference a candidate must match.

    ``replays`` is the original's first replay (one answer per sequence); ``checkable`` the
    steps whose observation it repeated in the second; ``origins`` where each sequence came
    from (one of :data:`ORIGINS`; "recorded" for every sequence past its end).
    """

    sequences: list[bytes]
    replays: list[SequenceAnswer]
    checkable: frozenset[Step]
    notes: tuple[str, ...] = ()
    origins: list[str] = field(default_factory=list)

    def origin(self, number: int) -> str:
        return self.origins[number] if number < len(self.origins) else ORIGINS[0]

    def label(self, number: int) -> str:
        """``recorded sequence 2``, ``generated sequence 3``: counted within its origin."""
        origin = self.origin(number)
        ordinal = sum(1 for other in range(number) if self.origin(other) == origin) + 1
        return f"{origin} sequence {ordinal}"

    def describe(self) -> str:
        checked = {number for number, _ in self.checkable}
        counts = [sum(1 for n in checked if self.origin(n) == origin) for origin in ORIGINS]
        return (
            f"{len(self.checkable)} steps of {counts[0]} recorded and {counts[1]} generated "
            "sequences"
        )


@dataclass(frozen=True)
class GeneratedSequences:
    """Sequences drawn from the recorded ones (opaque blobs), and a note when there are none."""

    sequences: list[bytes]
    note: str | None = None


def class_of(target: TargetRef) -> str:
    """The qualified name of the class that owns the method ``target``."""
    owner, dot, _ = target.qualname.rpartition(".")
    if not dot:
        raise ValueError(f"{target} is not a method of a class")
    return owner


def replay(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    sequences: list[bytes],
    timeout: float,
    limits: list[list[float]] | None = None,
    stop_on_timeout: bool = False,
) -> SequencesAnswer:
    """Each of ``sequences`` replayed on a new object of ``target``'s class in ``sandbox``,
    validated; :class:`HarnessError` otherwise. ``limits``: seconds per sequence per step
    (``STEP_LIMIT`` where none is given)."""
    spec = {
        "module": target.module,
        "qualname": class_of(target),
        "limit": STEP_LIMIT,
        "limits": limits or [],
        "stop_on_timeout": stop_on_timeout,
    }
    answer = run_harness(
        project, sandbox, "evolver_sequences.py", spec, sequences, timeout, SequencesAnswer
    )
    try:
        answer.expect_sequences(len(sequences))
    except MalformedAnswer as error:
        raise HarnessError(f"gave a malformed answer: {error}") from None
    return answer


def generate_sequences(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    recorded: list[bytes],
    count: int,
    timeout: float,
) -> GeneratedSequences:
    """Up to ``count`` sequences no recording had, drawn from ``recorded`` in the original's
    ``sandbox`` (``evolver_sequence_inputs``; no code of the project runs there); a note when
    there are none. Their answer is validated data, the sequences opaque and bounded."""
    if not recorded or count <= 0:
        return GeneratedSequences([], "no recorded sequence to draw from")
    spec = {"count": count, "max_steps": GENERATED_STEPS, "seed": GENERATION_SEED}
    script = "evolver_sequence_inputs.py"
    try:
        answer = run_harness(
            project, sandbox, script, spec, recorded, timeout, schema=SequenceInputsAnswer
        )
    except HarnessError as error:
        return GeneratedSequences([], scrub(f"cannot generate sequences: {error}", REASON_LIMIT))
    if len(answer.sequences) > count:
        return GeneratedSequences([], "cannot generate sequences: gave more than asked")
    note = None if answer.note is None else scrub(answer.note, REASON_LIMIT)
    return GeneratedSequences(answer.sequences, note)


def observe_sequences(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    sequences: list[bytes],
    timeout: float,
    generated: list[bytes] | None = None,
) -> SequenceBehaviour:
    """Replay the recorded ``sequences``, then the ``generated`` ones, on the original (in
    ``sandbox``) twice; only the steps it repeats are checkable. A failure here is the
    original's, never a candidate's: it is a note."""
    origins = [ORIGINS[0]] * len(sequences) + [ORIGINS[1]] * len(generated or [])
    sequences = [*sequences, *(generated or [])]
    if not sequences:  # a function target, or no object was recorded: nothing to replay
        return SequenceBehaviour([], [], frozenset())
    try:
        first = replay(project, sandbox, target, sequences, timeout)
        second = replay(project, sandbox, target, sequences, timeout)
    except HarnessError as error:
        note = f"sequences not compared: replaying them on the original {error}"
        failed = (scrub(note, REASON_LIMIT),)
        return SequenceBehaviour(sequences, [], frozenset(), failed, origins)
    checkable: set[Step] = set()
    unobserved = varying = 0
    for number, (one, two) in enumerate(zip(first.sequences, second.sequences, strict=True)):
        same_steps = one.names == two.names
        for step, (a, b) in enumerate(zip(one.digests, two.digests)):  # noqa: B905
            if a is None or b is None:
                unobserved += 1
            elif a == b and same_steps:
                checkable.add((number, step))
            else:
                varying += 1
    notes = []
    if unobserved:
        notes.append(f"{unobserved} steps of the sequences could not be replayed")
    if varying:
        notes.append(f"{varying} steps of the sequences differ on each replay")
    return SequenceBehaviour(
        sequences, first.sequences, frozenset(checkable), tuple(notes), origins
    )


def observe_probed(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    recorded: list[bytes],
    count: int,
    timeout: float,
) -> SequenceBehaviour:
    """The ``recorded`` sequences and up to ``count`` drawn from them in orders none had (the
    stateful probe), replayed on the original in ``sandbox``: the reference a change to the
    target's class must match."""
    drawn = generate_sequences(project, sandbox, target, recorded, count, timeout)
    observed = observe_sequences(project, sandbox, target, recorded, timeout, drawn.sequences)
    if drawn.note:
        observed = dataclasses.replace(observed, notes=(*observed.notes, drawn.note))
    return observed


def unjudged(behaviour: SequenceBehaviour, target: str, changed: Sequence[str]) -> str | None:
    """Why the sequences cannot judge a change to the class of the method ``target`` (a
    qualified name) that changes ``changed`` besides it, or ``None``.

    At least one recorded step that the original repeats must call the target: drawn
    sequences alone are no real use of it. And every public method the change rewrites must
    be called by one: a method nothing calls would be judged by nothing.
    """
    owner, method = target.rsplit(".", 1)
    real = [(n, s) for n, s in behaviour.checkable if behaviour.origins[n] == ORIGINS[0]]
    called = {behaviour.replays[n].names[s] for n, s in real}
    if method not in called:
        recorded = behaviour.origins.count(ORIGINS[0])
        found = (
            f"none of the {recorded} recorded ones calls {method} in a way the original repeats"
            if recorded
            else f"none was recorded ({'; '.join(behaviour.notes) or 'no object was made'})"
        )
        return (
            f"changes {', '.join(changed)}: such a change is judged on sequences of calls on "
            f"{owner} objects, and {found}"
        )
    members = (name.rpartition(".") for name in changed if name.startswith(owner + "."))
    # The constructor runs first in every sequence; a private member is reached through them.
    uncalled = [f"{o}.{n}" for o, _, n in members if not n.startswith("_") and n not in called]
    if uncalled:
        return (
            f"changes {', '.join(uncalled)}, which no recorded sequence of calls on {owner} "
            "objects calls: its behaviour would not be compared"
        )
    return None


def check_sequences(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    behaviour: SequenceBehaviour,
    timeout: float,
    rel_tol: float = 1e-9,
) -> str | None:
    """Why the candidate in ``sandbox`` does not behave as the original on the sequences (the
    first step that differs, recorded sequences first), or ``None``."""
    if not behaviour.checkable:
        return None
    limits = sequence_limits(behaviour)
    try:
        answer = replay(project, sandbox, target, behaviour.sequences, timeout, limits, True)
    except HarnessError as error:
        kinds = " and ".join(origin for origin in ORIGINS if origin in behaviour.origins)
        return _scrubbed(f"replaying the {kinds or ORIGINS[0]} sequences, the harness {error}")
    return judge_sequences(behaviour, answer, class_of(target), limits, rel_tol)


def judge_sequences(
    behaviour: SequenceBehaviour,
    answer: SequencesAnswer,
    class_name: str,
    limits: list[list[float]],
    rel_tol: float,
) -> str | None:
    """The candidate's replay (``answer``) against the original's, step by step in order; a
    generated sequence's steps as the module's docstring says."""
    for number, (was, mine) in enumerate(zip(behaviour.replays, answer.sequences, strict=True)):
        lenient = behaviour.origin(number) == "generated"
        for step in range(len(was.names)):
            why: str | None
            if mine.timed_out_at == step:
                took = f"the original took {was.seconds[step] or 0.0:.3f}s"
                why = f"did not finish in {limits[number][step]:.1f}s ({took})"
            elif (number, step) in behaviour.checkable:
                why = _compare_step(was, mine, step, rel_tol, lenient)
            else:
                continue
            if why is not None:
                where = f"step {step + 1} ({_step_text(was, step, class_name)})"
                return _scrubbed(f"on {behaviour.label(number)}, {where}: {why}")
    return None


def _compare_step(
    was: SequenceAnswer, mine: SequenceAnswer, step: int, rel_tol: float, lenient: bool
) -> str | None:
    """How the candidate's observation of one step differs from the original's; ``lenient``:
    which exception it raises where the original's fails in an operation is not compared."""
    if step >= len(mine.names) or mine.names[step] != was.names[step]:
        return "was not replayed (the answer names other steps)"
    old, new = was.steps[step], mine.steps[step]
    if old is None or new is None:  # checkable steps have one; a forged answer not
        return "gave no outcome"
    try:
        if lenient and _both_refuse(old["outcome"], new["outcome"]):
            return state_difference(old["state"], new["state"], rel_tol)
        return difference(old["outcome"], new["outcome"], rel_tol, True) or state_difference(
            old["state"], new["state"], rel_tol
        )
    except RecursionError:  # validated answers stay shallower; a last line of defence
        return "gives an outcome nested too deeply to compare"


def _both_refuse(was: dict[str, Any], mine: dict[str, Any]) -> bool:
    """Both raised, and the original did not say no on purpose (its ``raise``: a contract) or
    the candidate says it with the same type."""
    if was.get("raised") is None or mine.get("raised") is None:
        return False
    return not was.get("explicit") or was["raised"][0] == mine["raised"][0]


def _step_text(replayed: SequenceAnswer, step: int, class_name: str) -> str:
    """The step as a call: ``Book([...])`` for the constructor, ``add({...})`` after it."""
    name = replayed.names[step]
    shown = class_name.rsplit(".", 1)[-1] if name == "__init__" else name
    return shown + render_call(replayed.inputs[step])


def _scrubbed(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` capped, with anything that looks like a secret masked (cut before the scrub,
    so that its cost stays bounded whatever the candidate produced)."""
    return scrub(text[: limit * 4], limit)


def sequence_limits(behaviour: SequenceBehaviour) -> list[list[float]]:
    """Seconds each step of each sequence may take on a candidate."""
    return [
        [max(HANG_FLOOR, HANG_FACTOR * (seconds or 0.0)) for seconds in replayed.seconds]
        for replayed in behaviour.replays
    ]

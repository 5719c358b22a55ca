"""Same behaviour as the original: replay real and generated calls on both, and compare.

The original is observed twice, in two processes: a call whose outcome differs between them
(randomness, clocks, hidden state) cannot judge anything and is left out. The evidence is
graded by where each call came from (:data:`ORIGINS`), the way an expert weighs it:

- **recorded** (the workload's calls) and **test** (calls the repo's tests make): exact. The
  value returned (floats within a relative tolerance, NaN equal to NaN), or the exception
  raised with its type and message, the arguments as the call leaves them (a mutated input,
  or an object's state after a method call), what a returned iterator yields.
- **generated**: inputs drawn within the domain the real calls show (``evolver_inputs``).
  Exact as well, but where the original fails (an operation raising: ``words[0]`` of an empty
  list), any ``Exception`` from the candidate will do: both refuse the input, and which
  exception says little. Where the original refuses it with a ``raise`` of its own, the type
  is part of its contract and must match.
- **probe**: inputs of a type or shape no real call or test used. A difference there is shown
  (report, history, pull request) and raises the change's risk; it rejects only under
  ``strict`` (``--strict-behaviour``), since the function's contract may exclude the input.

Every outcome is compared in Evolver's process as JSON; nothing the candidate produced is
unpickled here. Answers are hostile data: each is validated (:mod:`agent.verify.answers`)
before anything reads it, and every reason built from what the code under test controls (its
results, exception messages, inputs it was given) is capped and scrubbed of anything that
looks like a secret.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from agent.domain import ProbeDifference, TargetRef
from agent.profile.recording import Recording
from agent.project.runner import Project
from agent.verify.answers import InputsAnswer, MalformedAnswer, ObserveAnswer
from agent.verify.harness import HarnessError, run_harness
from agent.verify.outcomes import difference, render_call
from agent.verify.untrusted import scrub
from sandbox import Sandbox

# How long one call may take when observed. Generated inputs the original cannot handle in
# time (an exponential algorithm on a larger input) are dropped; a candidate gets a generous
# multiple of the original's time before it is said to hang.
RECORDED_CALL_LIMIT = 30.0
GENERATED_CALL_LIMIT = 0.5
REASON_LIMIT = 400  # characters of a reason built from what the code under test controls
MAX_PROBE_DIFFERENCES = 5  # shown per candidate; the count says how many more

# Where a call came from, strongest evidence first, and how a reason names it.
ORIGINS = {
    "recorded": "a recorded call",
    "test": "a call from the tests",
    "generated": "a generated call",
    "probe": "a probe call",
}
_REAL = ("recorded", "test")


@dataclass(frozen=True)
class Behaviour:
    """What the original does: the reference every candidate of a target must match.

    ``origins`` says where each of ``calls`` came from (a key of :data:`ORIGINS`);
    ``checkable`` are the indexes of calls whose outcome the original repeats.
    """

    calls: list[bytes]
    origins: list[str]
    observations: list[dict[str, Any] | None]
    digests: list[str | None]
    inputs: list[Any]
    seconds: list[float]
    checkable: frozenset[int]
    notes: tuple[str, ...] = ()
    # Per call, whether the original's repeat of it returns an object its first result holds,
    # where both observations agree (``None`` where they do not, or it is not known).
    shared: list[bool | None] = field(default_factory=list)

    def index(self) -> dict[bytes, int]:
        return {call: number for number, call in enumerate(self.calls)}

    def counts(self) -> dict[str, int]:
        """How many calls of each origin a candidate is held to."""
        found = dict.fromkeys(ORIGINS, 0)
        for number in self.checkable:
            found[self.origins[number]] += 1
        return found

    @property
    def real(self) -> int:
        """How many real calls (the workload's and the tests') a candidate is held to."""
        return sum(1 for number in self.checkable if self.origins[number] in _REAL)

    def describe(self) -> str:
        counts = self.counts()
        generated, probes = counts["generated"], counts["probe"]
        return f"{self.real} real calls, {generated} generated and {probes} probes"


@dataclass(frozen=True)
class Observed:
    """What a candidate did on the behaviour's calls: the digest of each outcome."""

    digests: dict[int, str]


@dataclass(frozen=True)
class Judgement:
    """How a candidate's outcomes compare: why it differs where that rejects (or ``None``),
    what it did, and how it differs on probes (evidence, not a rejection)."""

    reason: str | None
    observed: Observed
    probe_differences: tuple[ProbeDifference, ...] = ()
    probes_differing: int = 0  # all of them; only the first few are described


def observe(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    limits: list[float],
    timeout: float,
    stop_on_timeout: bool = False,
) -> ObserveAnswer:
    """What the target did on each of ``calls``, validated: :class:`HarnessError` otherwise."""
    spec = {
        "mode": "observe",
        "module": target.module,
        "qualname": target.qualname,
        "limits": limits,
        "stop_on_timeout": stop_on_timeout,
    }
    answer = run_harness(
        project, sandbox, "evolver_timer.py", spec, calls, timeout, schema=ObserveAnswer
    )
    try:
        answer.expect_calls(len(calls))
    except MalformedAnswer as error:
        raise HarnessError(f"gave a malformed answer: {error}") from None
    return answer


@dataclass(frozen=True)
class Generated:
    """Inputs drawn in the original's sandbox: in the real calls' domain, and probes."""

    calls: list[bytes]
    probes: list[bytes]
    note: str | None = None


def generate_inputs(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    recorded: list[bytes],
    count: int,
    timeout: float,
) -> Generated:
    """Up to ``count`` in-domain calls and ``count // 2`` probes drawn by hypothesis from the
    real calls (``evolver_inputs``); a note when there are none."""
    probes = count // 2
    spec = {"module": target.module, "qualname": target.qualname, "count": count, "probes": probes}
    try:
        answer = run_harness(
            project, sandbox, "evolver_inputs.py", spec, recorded, timeout, schema=InputsAnswer
        )
    except HarnessError as error:
        return Generated([], [], f"cannot generate inputs: {error}")
    if len(answer.calls) > count or len(answer.probes) > probes:
        return Generated([], [], "cannot generate inputs: gave more calls than asked")
    note = None if answer.note is None else scrub(answer.note, REASON_LIMIT)
    return Generated(answer.calls, answer.probes, note)


def reference(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    origins: list[str],
    timeout: float,
) -> Behaviour:
    """Observe the original twice; keep the generated calls and probes it handles in time.

    Only what the original repeats is compared; what it does not, or what cannot be observed
    at all, is left out and said in the notes, never held against a candidate (the original's
    sandbox runs no candidate code, so a failure there is not the candidate's).
    """
    limits = [
        RECORDED_CALL_LIMIT if origin in _REAL else GENERATED_CALL_LIMIT for origin in origins
    ]
    try:
        first = observe(project, sandbox, target, calls, limits, timeout)
        kept = [
            number
            for number, seconds in enumerate(first.seconds)
            if origins[number] in _REAL or seconds is not None
        ]
        kept_calls = [calls[number] for number in kept]
        second = observe(
            project, sandbox, target, kept_calls, [limits[number] for number in kept], timeout
        )
    except HarnessError as error:
        note = f"behaviour not compared per call: observing the original {error}"
        return Behaviour([], [], [], [], [], [], frozenset(), notes=(note,))
    first_digests = [first.digests[number] for number in kept]
    pairs = list(zip(first_digests, second.digests, strict=True))
    checkable = frozenset(
        number for number, (one, two) in enumerate(pairs) if one is not None and one == two
    )
    unobserved = sum(1 for one, two in pairs if one is None or two is None)
    varying = len(kept_calls) - len(checkable) - unobserved
    notes = []
    if unobserved:
        notes.append(
            f"{unobserved} calls could not be observed on the original (past "
            f"{RECORDED_CALL_LIMIT:.0f}s, or their arguments do not unpickle) and are not compared"
        )
    if varying:
        notes.append(f"{varying} calls give a different outcome each time and are not compared")
    return Behaviour(
        calls=kept_calls,
        origins=[origins[number] for number in kept],
        observations=[first.observations[number] for number in kept],
        digests=first_digests,
        inputs=[first.inputs[number] for number in kept],
        seconds=[first.seconds[number] or 0.0 for number in kept],
        checkable=checkable,
        notes=tuple(notes),
        shared=[
            first.shared[number] if first.shared[number] == again else None
            for number, again in zip(kept, second.shared, strict=True)
        ],
    )


def observe_recording(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    recording: Recording,
    examples: int,
    timeout: float,
) -> Behaviour:
    """What the original in ``sandbox`` does on the calls ``recording`` holds and on inputs
    drawn from them (``examples`` and half as many probes): the reference its candidates
    must match. The workload's calls are "recorded", unless the workload is the test suite;
    the tests' are "test"."""
    real = dict.fromkeys(recording.test_calls, "test")
    if recording.workload_calls != recording.test_calls:
        real.update(dict.fromkeys(recording.workload_calls, "recorded"))
    generated = generate_inputs(project, sandbox, target, list(real), examples, timeout)
    calls = [*real, *generated.calls, *generated.probes]
    origins = [
        *real.values(),
        *["generated"] * len(generated.calls),
        *["probe"] * len(generated.probes),
    ]
    behaviour = reference(project, sandbox, target, calls, origins, timeout)
    if generated.note:
        behaviour = dataclasses.replace(behaviour, notes=(*behaviour.notes, generated.note))
    return behaviour


def check(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    behaviour: Behaviour,
    rel_tol: float,
    timeout: float,
    strict: bool = False,
) -> Judgement:
    """How the candidate in ``sandbox`` compares with the original on the behaviour's calls.

    ``strict``: a difference on a probe rejects too. Reasons quote values the candidate
    produced: they are capped and scrubbed.
    """
    limits = [max(2.0, 20 * seconds) for seconds in behaviour.seconds]
    answer = observe(project, sandbox, target, behaviour.calls, limits, timeout, True)
    return judge(behaviour, answer, target.qualname, limits, rel_tol, strict)


def judge(
    behaviour: Behaviour,
    answer: ObserveAnswer,
    qualname: str,
    limits: list[float],
    rel_tol: float,
    strict: bool,
) -> Judgement:
    """The candidate's outcomes (``answer``) against the original's, each call as its origin
    says (see the module's docstring); the first difference that rejects is the reason."""
    observed = Observed({n: d for n, d in enumerate(answer.digests) if d is not None})
    hung = answer.timed_out_at
    if hung is not None:
        took = behaviour.seconds[hung]
        hang = f"did not finish in {limits[hung]:.1f}s (the original took {took:.3f}s)"
        return Judgement(_scrubbed(f"on {_call(behaviour, hung)}: {hang}"), observed)
    name = qualname.rsplit(".", 1)[-1]
    probes: list[ProbeDifference] = []
    differing = 0
    rank = list(ORIGINS)
    order = sorted(behaviour.checkable, key=lambda n: (rank.index(behaviour.origins[n]), n))
    for number in order:
        why = _compare(behaviour, answer, number, rel_tol)
        if why is None:
            continue
        if behaviour.origins[number] != "probe" or strict:
            return Judgement(_scrubbed(f"on {_call(behaviour, number)}: {why}"), observed)
        differing += 1
        if len(probes) < MAX_PROBE_DIFFERENCES:
            given = _scrubbed(name + render_call(behaviour.inputs[number]), 120)
            probes.append(ProbeDifference(given, _scrubbed(why, 200)))
    return Judgement(None, observed, tuple(probes), differing)


def _call(behaviour: Behaviour, number: int) -> str:
    return f"{ORIGINS[behaviour.origins[number]]} {render_call(behaviour.inputs[number])}"


def _compare(
    behaviour: Behaviour, answer: ObserveAnswer, number: int, rel_tol: float
) -> str | None:
    """How the candidate's outcome of call ``number`` differs, as its origin judges it."""
    origin = behaviour.origins[number]
    was, mine = behaviour.observations[number], answer.observations[number]
    if was is None or mine is None:  # checkable calls have an outcome; a forged answer not
        return "gave no outcome"
    # Both refuse an input the original cannot handle: any exception says so, unless the
    # original refuses it on purpose (a ``raise`` of its own: its type is a contract).
    both_refuse = was.get("raised") is not None and mine.get("raised") is not None
    if origin == "generated" and both_refuse and not was.get("explicit"):
        return None
    if origin == "generated" and both_refuse and was["raised"][0] == mine["raised"][0]:
        return None
    try:
        differs = difference(was, mine, rel_tol, origin in _REAL)
    except RecursionError:  # validated answers stay shallower; a last line of defence
        return "gives an outcome nested too deeply to compare"
    return differs or _sharing(behaviour, answer, number)


def _sharing(behaviour: Behaviour, answer: ObserveAnswer, number: int) -> str | None:
    """Equal results can still differ to a caller who changes one: a cache that hands out the
    same list on every call changes what the next caller gets."""
    was = behaviour.shared[number] if number < len(behaviour.shared) else None
    mine = answer.shared[number]
    if was is None or mine is None or was == mine:
        return None
    if mine:
        return (
            "returns on the same call again an object its first result holds, where the "
            "original returns new ones (a caller that changes one result changes the next)"
        )
    return (
        "returns new objects on the same call again, where the original returns one its "
        "first result holds (a caller's changes to it no longer reach the next)"
    )


def _scrubbed(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` capped, with anything that looks like a secret masked (cut before the scrub
    too, so that its cost stays bounded whatever the candidate produced)."""
    return scrub(text[: limit * 4], limit)

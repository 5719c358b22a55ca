"""What a harness answer must look like: schemas for data out of a process that ran hostile code.

A harness script runs next to candidate (or project) code, which can rewrite its answer file
at will. Whatever that file holds, Evolver's process must neither crash nor be misled by its
shape: :func:`parse_answer` checks the parsed JSON against a strict schema (exact types, no
unknown keys, finite numbers, bounded strings and nesting) and says in a few words what is
wrong, never quoting the data. The field types below are the building blocks: :data:`Digest`,
:data:`Seconds`, :data:`Count`, :data:`Text`, :data:`Blob`, :data:`Description` and
:data:`Observation`; :class:`ObserveAnswer`, :class:`TimeAnswer`, :class:`MemoryAnswer` and
:class:`InputsAnswer` are the answers of ``evolver_timer.py`` (modes ``observe``, ``time`` and
``memory``) and ``evolver_inputs.py``; :class:`SequencesAnswer` that of ``evolver_sequences.py``
and :class:`SequenceInputsAnswer` that of ``evolver_sequence_inputs.py``.

Use: ``answer = parse_answer(ObserveAnswer, read_json(path))``; define another answer as a
``pydantic.BaseModel`` with ``model_config = STRICT`` and these field types.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from itertools import chain
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from agent._harness.evolver_observe import digest
from agent.verify.untrusted import scrub

# An honest description nests at most ~200 levels (``evolver_observe._MAX_DEPTH``); comparing
# and rendering recurse about three frames per level, so this keeps them well inside Python's
# recursion limit.
MAX_DESCRIPTION_DEPTH = 220
MAX_TEXT = 4096  # exception messages (the harness keeps 500), notes, names
MAX_BLOB_BYTES = 64 * 1024 * 1024
MAX_SECONDS = 7 * 24 * 3600.0

STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)

M = TypeVar("M", bound=BaseModel)


class MalformedAnswer(ValueError):
    """The answer is not of the expected shape; the message says where, never what it held."""


def parse_answer(schema: type[M], data: Any) -> M:
    """``data`` (parsed JSON) validated as ``schema``; :class:`MalformedAnswer` if it is not."""
    try:
        return schema.model_validate(data, strict=True)
    except ValidationError as error:
        raise MalformedAnswer(_first_problem(error)) from None
    except RecursionError:
        raise MalformedAnswer("nested too deeply") from None


def _first_problem(error: ValidationError) -> str:
    problems = error.errors(include_input=False, include_url=False, include_context=False)
    if not problems:
        return "invalid"
    first = problems[0]
    # A location can hold a key the answer chose (an unknown field): cap and scrub it.
    where = "".join(
        f"[{part}]" if isinstance(part, int) else f".{str(part)[:40]}" for part in first["loc"]
    ).lstrip(".")
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return scrub(f"{where or 'the answer'}: {message}{more}", 200)


def check_description(tree: Any) -> Any:
    """``tree`` if it is a description as ``evolver_observe.describe`` writes them.

    Scalars (None, bool, int, float, str) stand for themselves; anything else is
    ``[kind, type name, payload]``, or ``["ref", n]`` / ``["deep"]``. Walked without recursion:
    the tree may be as deep as the JSON parser allowed.
    """
    # A stack of iterators, not of nodes: memory grows with the depth, not with the width.
    stack: list[tuple[Iterator[Any], int]] = [(iter((tree,)), 0)]
    while stack:
        children, depth = stack[-1]
        node = next(children, _END)
        if node is _END:
            stack.pop()
            continue
        if node is None or type(node) in (bool, int, float, str):
            continue
        if type(node) is not list:
            raise ValueError(f"a description holds a {type(node).__name__}")
        if depth >= MAX_DESCRIPTION_DEPTH:
            raise ValueError("a description is nested too deeply")
        stack.append((_children(node), depth + 1))
    return tree


_END = object()


def _children(node: list[Any]) -> Iterator[Any]:
    """The descriptions inside one ``[kind, name, payload]`` node, after checking its shape."""
    kind = node[0] if node else None
    if kind == "deep" and len(node) == 1:
        return iter(())
    if kind == "ref" and len(node) == 2 and type(node[1]) is int and node[1] >= 0:
        return iter(())
    if len(node) != 3 or type(node[0]) is not str or type(node[1]) is not str:
        raise ValueError("a described value is not [kind, type name, payload]")
    if len(node[1]) > MAX_TEXT:
        raise ValueError("a type name is too long")
    payload = node[2]
    if kind in ("seq", "set", "iter"):
        if type(payload) is not list:
            raise ValueError(f"a {kind} description has no list of items")
        return iter(payload)
    if kind == "map":
        if type(payload) is not list or any(
            type(pair) is not list or len(pair) != 2 for pair in payload
        ):
            raise ValueError("a map description has no list of [key, value] pairs")
        return chain.from_iterable(payload)
    if kind in ("bytes", "scalar", "exception", "callable", "module"):
        if type(payload) is not str:
            raise ValueError(f"a {kind} description has no text")
        return iter(())
    if kind == "obj":
        return iter((payload,))
    raise ValueError("a description of an unknown kind")


_OUTCOME_KEYS = frozenset({"raised", "returned", "args", "explicit"})


def check_observation(observation: dict[str, Any]) -> dict[str, Any]:
    """``observation`` if it is what ``evolver_observe.outcome`` writes: ``args``, and
    ``returned`` and/or ``raised`` (``[type name, message]``), and ``explicit: true`` when a
    ``raise`` statement raised it."""
    if not set(observation) <= _OUTCOME_KEYS:
        raise ValueError("an outcome has keys other than raised, returned, args and explicit")
    if observation.get("explicit", True) is not True or (
        "explicit" in observation and "raised" not in observation
    ):
        raise ValueError("explicit is not true, or not about an exception")
    if "args" not in observation:
        raise ValueError("an outcome does not describe the arguments")
    if "raised" not in observation and "returned" not in observation:
        raise ValueError("an outcome neither returns nor raises")
    raised = observation.get("raised")
    if "raised" in observation and not (
        type(raised) is list
        and len(raised) == 2
        and all(type(part) is str and len(part) <= MAX_TEXT for part in raised)
    ):
        raise ValueError("an exception is not [type name, message]")
    check_description(observation["args"])
    if "returned" in observation:
        check_description(observation["returned"])
    return observation


def decode_blob(text: Any) -> bytes:
    """The bytes of one call sent as base64 text; ``ValueError`` if it is not that."""
    if type(text) is not str:
        raise ValueError("a call is not base64 text")
    if len(text) > (MAX_BLOB_BYTES + 2) // 3 * 4:
        raise ValueError("a call is too large")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a call is not valid base64") from None


Digest = Annotated[str, StringConstraints(min_length=32, max_length=32, pattern=r"^[0-9a-f]+$")]
Seconds = Annotated[float, Field(ge=0.0, le=MAX_SECONDS, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Blob = Annotated[bytes, BeforeValidator(decode_blob)]  # base64 in the JSON
Description = Annotated[Any, AfterValidator(check_description)]
Observation = Annotated[dict[str, Any], AfterValidator(check_observation)]


class ObserveAnswer(BaseModel):
    """``evolver_timer.py`` in mode ``observe``: per call, what it did (or ``None`` where it
    ran past its limit), its digest, its time and its input; where a run stopped early."""

    model_config = STRICT

    observations: list[Observation | None]
    digests: list[Digest | None]
    seconds: list[Seconds | None]
    inputs: list[Description]
    timed_out_at: Count | None
    # Per call, whether calling it again returned a mutable object of the first result's
    # (``None``: not known, it raised or ran past its limit).
    shared: list[bool | None]

    @model_validator(mode="after")
    def _consistent(self) -> ObserveAnswer:
        count = len(self.observations)
        lengths = {len(self.digests), len(self.seconds), len(self.inputs), len(self.shared)}
        if lengths != {count}:
            raise ValueError("lists of different lengths")
        if self.timed_out_at is not None and self.timed_out_at >= count:
            raise ValueError("timed_out_at names no call")
        for observation, given, seconds in zip(
            self.observations, self.digests, self.seconds, strict=True
        ):
            if (observation is None) != (given is None) or (given is None) != (seconds is None):
                raise ValueError("a call has an outcome without a digest or a time, or back")
            # Recomputed here rather than believed: a digest stands for its outcome.
            if observation is not None and digest(observation) != given:
                raise ValueError("a digest does not match its outcome")
        return self

    def expect_calls(self, count: int) -> None:
        """Raise :class:`MalformedAnswer` unless it answers exactly ``count`` calls."""
        if len(self.observations) != count:
            raise MalformedAnswer(f"answers {len(self.observations)} calls, not {count}")


_STEP_KEYS = frozenset({"outcome", "state"})
MAX_STEPS = 10_000  # steps of one replayed sequence (the recorder keeps far fewer)


def check_step(step: dict[str, Any]) -> dict[str, Any]:
    """``step`` if it is what ``evolver_sequences`` writes for one step of a sequence: the
    call's ``outcome`` (see :func:`check_observation`) and the object's public ``state``."""
    if set(step) != _STEP_KEYS:
        raise ValueError("a step is not an object of outcome and state")
    if type(step["outcome"]) is not dict:
        raise ValueError("a step's outcome is not an object")
    check_observation(step["outcome"])
    check_description(step["state"])
    return step


StepObservation = Annotated[dict[str, Any], AfterValidator(check_step)]
# A method's name, or the constructor's ("__init__"): what a reason shows.
MethodName = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class SequenceAnswer(BaseModel):
    """One replayed sequence (``evolver_sequences.py``): per step, the method's name, what it
    did (``None``: not replayed), its digest, its seconds and its input; where it hung."""

    model_config = STRICT

    names: Annotated[list[MethodName], Field(max_length=MAX_STEPS)]
    steps: list[StepObservation | None]
    digests: list[Digest | None]
    seconds: list[Seconds | None]
    inputs: list[Description]
    timed_out_at: Count | None

    @model_validator(mode="after")
    def _consistent(self) -> SequenceAnswer:
        count = len(self.names)
        if {len(self.steps), len(self.digests), len(self.seconds), len(self.inputs)} != {count}:
            raise ValueError("lists of different lengths")
        if self.names and self.names[0] != "__init__":
            raise ValueError("a sequence does not begin with its constructor")
        if self.timed_out_at is not None and self.timed_out_at >= count:
            raise ValueError("timed_out_at names no step")
        for step, given, seconds in zip(self.steps, self.digests, self.seconds, strict=True):
            if (step is None) != (given is None) or (given is None) != (seconds is None):
                raise ValueError("a step has an outcome without a digest or a time, or back")
            if step is not None and digest(step) != given:  # recomputed, never believed
                raise ValueError("a digest does not match its step")
        return self


class SequencesAnswer(BaseModel):
    """``evolver_sequences.py``: one :class:`SequenceAnswer` per sequence asked."""

    model_config = STRICT

    sequences: list[SequenceAnswer]

    def expect_sequences(self, count: int) -> None:
        """Raise :class:`MalformedAnswer` unless it answers exactly ``count`` sequences."""
        if len(self.sequences) != count:
            raise MalformedAnswer(f"answers {len(self.sequences)} sequences, not {count}")


class TimeAnswer(BaseModel):
    """``evolver_timer.py`` in mode ``time``, as it answers today: the loop count, the first
    pass and the per-loop samples in seconds, the digests seen per call index, and the clock
    functions found replaced. (The timing protocol owns it; adjust with the harness.)"""

    model_config = STRICT

    loops: Annotated[int, Field(ge=1, le=1_000_000)]
    # The most loops a sample may take: what the memory a loop holds (measured) and the time
    # its copies take allow. And per call, the arguments its first pass changed (positions and
    # keywords): those each loop gets a copy of, the others one copy shared by the loops.
    most_loops: Annotated[int, Field(ge=1, le=1_000_000)] = 1_000_000
    changed: list[list[Annotated[int, Field(ge=0)] | Text]] | None = None
    # The first pass left every call's arguments as they were (the calibrating process only).
    unchanged: bool | None = None
    first: Seconds
    values: list[Seconds]
    checks: dict[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")], list[Digest]]
    clock_patched: list[Annotated[str, StringConstraints(max_length=40)]]


Bytes = Annotated[int, Field(ge=0, le=1 << 50)]


class MemoryAnswer(BaseModel):
    """``evolver_timer.py`` in mode ``memory``: per call measured, its peak traced memory and
    what it left allocated (which may be less than nothing: it freed what it was given), and its
    outcome's digest; whether tracing was found stopped, and what of ``tracemalloc`` the code
    under test reached for."""

    model_config = STRICT

    peaks: list[Bytes]
    retained: list[Annotated[int, Field(ge=-(1 << 50), le=1 << 50)]]
    digests: list[Digest]
    untraced: bool
    touched: list[Annotated[str, StringConstraints(max_length=80)]]

    @model_validator(mode="after")
    def _consistent(self) -> MemoryAnswer:
        if len({len(self.peaks), len(self.retained), len(self.digests)}) != 1:
            raise ValueError("lists of different lengths")
        return self


class InputsAnswer(BaseModel):
    """``evolver_inputs.py``: generated calls in the real calls' domain and probes outside it
    (pickled ``(args, kwargs)``, opaque here), and a note when it could not generate any."""

    model_config = STRICT

    calls: list[Blob]
    probes: list[Blob]
    note: Text | None


class SequenceInputsAnswer(BaseModel):
    """``evolver_sequence_inputs.py``: sequences drawn from the recorded ones (each a pickle of
    its steps, opaque here and bounded as a call is), and a note when it could draw none."""

    model_config = STRICT

    sequences: list[Blob]
    note: Text | None

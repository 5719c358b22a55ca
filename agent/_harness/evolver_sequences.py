"""Replay recorded sequences of calls on objects of one class: ``python evolver_sequences.py SPEC``.

``SPEC`` is a JSON file: ``module``, ``qualname`` (the class), ``calls`` (a calls file, see
``evolver_blobs``, holding one blob per sequence: a pickle of ``[(name, pickled (args,
kwargs)), ...]``, the constructor first as ``"__init__"``, as ``evolver_sequence_recorder``
writes them), ``out`` (where to write the JSON answer), ``limit`` (seconds per step) and
optionally ``limits`` (per sequence, per step: a candidate gets a multiple of the original's
time) and ``stop_on_timeout``.

Each sequence is replayed on a new object: the class called with the constructor's arguments,
then each method looked up on the object and called, in order. Every step, construction
included, is described (``evolver_observe``): what it returned or raised, its arguments as it
left them, and the object's *public* state after it: the attributes whose names do not start
with ``_`` (from its ``__dict__`` and its ``__slots__``), sorted by name. Private attributes are
the implementation's business (an index a candidate keeps is not a difference), and so are
the private attributes of any object of the class met in a result or an argument.

The answer is ``{"sequences": [{"names", "steps", "digests", "seconds", "inputs",
"timed_out_at"}]}``: per step its method's name, its observation (``{"outcome", "state"}``, or
``None`` where it was not replayed: after a constructor that raised, a step past its limit or
one whose arguments do not unpickle), the observation's digest, its seconds and its input
(a preview, only ever shown). A step past its limit ends its sequence; with
``stop_on_timeout`` it ends the run.

Stdlib only: it runs inside the sandbox, next to candidate code.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from typing import Any

from evolver_blobs import load_calls
from evolver_observe import (
    CallTimeout,
    _Describer,
    _state,
    call,
    call_with_limit,
    digest,
    outcome,
    preview,
    resolve,
    type_name,
)

INIT = "__init__"


def public_state(obj: Any) -> dict[str, Any]:
    """``obj``'s attributes that callers may read: names without a leading ``_``, sorted (the
    order a constructor assigns them in is not behaviour)."""
    state = _state(obj) or {}
    public = [(k, v) for k, v in state.items() if isinstance(k, str) and not k.startswith("_")]
    return dict(sorted(public, key=lambda pair: pair[0]))


class _Public(_Describer):
    """A describer that shows objects of the replayed class by their public state only."""

    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls

    def _described(self, value: Any, depth: int) -> Any:
        if not isinstance(value, self.cls):
            return super()._described(value, depth)
        ref = self.seen.get(id(value))
        if ref is not None:
            return ["ref", ref]
        self.seen[id(value)] = len(self.seen)
        self.keep.append(value)
        return ["obj", type_name(value), self.describe(public_state(value), depth + 1)]


def _steps(blob: bytes) -> list[tuple[str, bytes]]:
    """A sequence's steps, or ``ValueError`` when the blob is not one."""
    steps = pickle.loads(blob)
    if not isinstance(steps, list) or not steps:
        raise ValueError("not a list of steps")
    for step in steps:
        if not (isinstance(step, tuple) and len(step) == 2):
            raise ValueError("a step is not (name, arguments)")
        if not (isinstance(step[0], str) and isinstance(step[1], bytes)):
            raise ValueError("a step is not (name, arguments)")
    if steps[0][0] != INIT or any(name == INIT or name.startswith("_") for name, _ in steps[1:]):
        raise ValueError("not a constructor followed by public methods")
    return steps


class _Made:
    """The object a constructor made (not a result to describe)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj


class _Replay:
    """One sequence replayed: what each step did, filled in as the steps run."""

    def __init__(self, cls: type, names: list[str]) -> None:
        self.cls = cls
        self.obj: Any = None
        self.names = names
        count = len(names)
        self.steps: list[dict[str, Any] | None] = [None] * count
        self.seconds: list[float | None] = [None] * count
        self.inputs: list[Any] = [None] * count
        self.timed_out_at: int | None = None

    def step(self, number: int, call_blob: bytes, limit: float) -> bool:
        """Replay step ``number``; False when the sequence cannot go on."""
        try:
            args, kwargs = pickle.loads(call_blob)
        except Exception:  # not replayed, nor anything after it: the object would differ
            return False
        name = self.names[number]
        self.inputs[number] = preview(_Public(self.cls).describe((args, kwargs), 0))
        target = self._constructor() if name == INIT else self._method(name)
        start = time.perf_counter()
        try:
            result = call_with_limit(limit, call, target, args, kwargs)
        except CallTimeout:
            self.timed_out_at = number
            return False
        self.seconds[number] = time.perf_counter() - start
        if isinstance(result, _Made):
            self.obj, result = result.obj, None  # a constructor returns nothing; the state shows it
        observed = outcome(result, args, kwargs, _Public(self.cls))
        state = None if self.obj is None else _Public(self.cls).describe(public_state(self.obj), 0)
        self.steps[number] = {"outcome": observed, "state": state}
        return self.obj is not None

    def _constructor(self) -> Any:
        cls = self.cls

        def construct(*args: Any, **kwargs: Any) -> _Made:  # boxed: an object that is an
            return _Made(cls(*args, **kwargs))  # iterator must not be drained as a result

        return construct

    def _method(self, name: str) -> Any:
        obj = self.obj

        def method(*args: Any, **kwargs: Any) -> Any:  # looked up as a caller would: inside
            return getattr(obj, name)(*args, **kwargs)  # the call, so a failure is an outcome

        return method

    def answer(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "steps": self.steps,
            "digests": [None if step is None else digest(step) for step in self.steps],
            "seconds": self.seconds,
            "inputs": self.inputs,
            "timed_out_at": self.timed_out_at,
        }


class _Limits:
    """Per-step limits: those given, then the default for steps past them."""

    def __init__(self, given: list[float], default: float) -> None:
        self.given, self.default = given, default

    def __getitem__(self, number: int) -> float:
        return float(self.given[number]) if number < len(self.given) else self.default


def replay(cls: type, blob: bytes, limits: _Limits) -> dict[str, Any]:
    """One sequence on a new object of ``cls``; a blob that is not a sequence replays nothing."""
    try:
        steps = _steps(blob)
    except Exception:
        return _Replay(cls, []).answer()
    run = _Replay(cls, [name for name, _ in steps])
    for number, (_, call_blob) in enumerate(steps):
        if not run.step(number, call_blob, limits[number]):
            break
    return run.answer()


def replay_all(spec: dict[str, Any], blobs: list[bytes]) -> dict[str, Any]:
    cls = resolve(spec["module"], spec["qualname"])
    given: list[list[float]] = spec.get("limits") or []
    answers: list[dict[str, Any]] = []
    for number, blob in enumerate(blobs):
        mine = given[number] if number < len(given) else []
        limits = _Limits(mine, float(spec["limit"]))
        answers.append(replay(cls, blob, limits))
        if spec.get("stop_on_timeout") and answers[-1]["timed_out_at"] is not None:
            answers += [_Replay(cls, []).answer() for _ in blobs[number + 1 :]]
            break
    return {"sequences": answers}


def main(spec_path: str) -> None:
    with open(spec_path) as text:
        spec = json.load(text)
    answer = replay_all(spec, load_calls(spec["calls"]))
    with open(spec["out"], "w") as out:
        json.dump(answer, out, allow_nan=True)


if __name__ == "__main__":
    main(sys.argv[1])

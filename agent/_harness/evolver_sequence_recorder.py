"""Record sequences of calls on real objects of one class: the recorder's half of issue 17.

``sitecustomize._Recorder`` imports this (lazily: only a process recording a method target
pays for it) and hands it the class that owns the target. Its ``__init__`` and public methods
(names without a leading ``_``, plain functions in the class's ``__dict__``) are wrapped; for a
sample of the objects constructed through that ``__init__`` (the outermost call; instances of
subclasses too) it keeps a sequence: the constructor's ``(args, kwargs)``, then each outermost
public method call made on that object, ``(name, (args, kwargs))`` without ``self``, every one
pickled *before* the call (calls may mutate their arguments).

Bounds, so that recording never costs the program more than a sample does:
- at most ``max_sequences`` objects, a reservoir sample over every object constructed (seeded,
  like the calls' reservoir: the same run records the same objects);
- at most ``max_steps`` method calls per object; a later call, a call whose arguments do not
  pickle, or one that would overrun a byte budget ends that object's sequence and marks it
  truncated;
- the bytes of every kept step count against the recorder's total (``budget.total`` against
  ``budget.max_total``), shared with its recorded calls.

Objects are keyed by ``id()`` and forgotten by a ``weakref.finalize`` when they die, so a new
object given a dead one's id never continues its sequence; objects that cannot be weakly
referenced (``__slots__`` without ``__weakref__``) are not recorded.

Stdlib only, and like the rest of the recorder it must never break the program it rides in:
every failure while recording is swallowed.
"""

from __future__ import annotations

import functools
import random
import weakref
from pickle import HIGHEST_PROTOCOL, dumps
from typing import Any

_FUNCTION = type(lambda: None)
INIT = "__init__"  # the constructor's name in a sequence
_STEP_OVERHEAD = 64  # bytes a step adds to a sequence's pickle besides its arguments


class _Sequence:
    """One object's calls so far: ``[(name, pickled (args, kwargs)), ...]``."""

    __slots__ = ("open", "size", "steps", "truncated")

    def __init__(self, constructor: bytes) -> None:
        self.steps: list[tuple[str, bytes]] = [(INIT, constructor)]
        self.size = len(constructor) + _STEP_OVERHEAD
        self.truncated = False
        self.open = True  # still recording (not cut, not evicted from the sample)

    def close(self, truncated: bool) -> None:
        self.open = False
        self.truncated = self.truncated or truncated


class ClassSequences:
    """The sequences recorded for one class; ``budget`` is the recorder (``total`` and
    ``max_total`` bytes, shared with its calls)."""

    def __init__(self, budget: Any, key: str, spec: dict[str, Any]) -> None:
        self.budget = budget
        self.max_sequences: int = spec.get("max_sequences", 8)
        self.max_steps: int = spec.get("max_steps", 64)
        # Half a call's cap: the sequence's own pickle (names, framing) must fit the reader's.
        self.max_bytes: int = spec.get("max_bytes", 64 * 1024 * 1024) // 2
        self.kept: list[_Sequence] = []
        self.live: dict[int, _Sequence] = {}  # id of a living object -> its sequence
        self.objects = 0  # objects constructed (outermost calls of the class's __init__)
        self.chance = random.Random(f"{key}#sequences")
        self.depth = 0  # calls of the wrapped methods in progress: only outermost ones count
        self.wrapped: list[type] = []  # the class, and another class object after a reload

    def wrap(self, cls: type) -> bool:
        """Wrap ``cls``'s ``__init__`` and public methods (once); False when it has no ``__init__``
        written in Python (one of C's takes its arguments in ``__new__``: not replayable)."""
        if any(done is cls for done in self.wrapped):  # another target of the same class
            return True
        init = _python_init(cls)
        if init is None:
            return False
        self.wrapped.append(cls)
        methods = [
            (name, value)
            for name, value in vars(cls).items()
            if not name.startswith("_") and type(value) is _FUNCTION
        ]
        cls.__init__ = self._wrapped(init, None)  # type: ignore[misc]
        for name, value in methods:
            setattr(cls, name, self._wrapped(value, name))
        return True

    def _wrapped(self, function: Any, name: str | None) -> Any:
        note = self._begin if name is None else functools.partial(self._step, name)

        @functools.wraps(function)
        def recorded(obj: Any, *args: Any, **kwargs: Any) -> Any:
            outermost = self.depth == 0
            self.depth += 1  # before noting: pickling may run the class's own methods
            try:
                if outermost:
                    note(obj, args, kwargs)
                return function(obj, *args, **kwargs)
            finally:
                self.depth -= 1

        return recorded

    def _begin(self, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """A new object: sample it (reservoir over objects), and keep its constructor's call."""
        try:
            self.live.pop(id(obj), None)  # ``__init__`` called again: a new sequence, if any
            self.objects += 1
            slot = len(self.kept)
            if slot >= self.max_sequences:
                slot = self.chance.randrange(self.objects)
                if slot >= self.max_sequences:
                    return
            blob = dumps((args, kwargs), protocol=HIGHEST_PROTOCOL)
            sequence = _Sequence(blob)
            replaced = self.kept[slot].size if slot < len(self.kept) else 0
            if sequence.size > self.max_bytes or not self._afford(sequence.size - replaced):
                return
            key = id(obj)
            weakref.finalize(obj, self._forget, key, sequence).atexit = False
        except Exception:  # arguments that do not pickle, an object with no weak references
            return
        self.budget.total += sequence.size - replaced
        if slot < len(self.kept):
            self.kept[slot].close(False)  # evicted: its object's later calls are not kept
            self.kept[slot] = sequence
        else:
            self.kept.append(sequence)
        self.live[key] = sequence

    def _step(self, name: str, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """A public method called on an object being recorded: one more step, or the end."""
        try:
            sequence = self.live.get(id(obj))
            if sequence is None or not sequence.open:
                return
            if len(sequence.steps) > self.max_steps:  # the constructor is not counted
                sequence.close(True)
                return
            try:
                blob = dumps((args, kwargs), protocol=HIGHEST_PROTOCOL)
            except Exception:  # its arguments cannot travel: the rest could not be replayed
                sequence.close(True)
                return
            size = len(blob) + len(name) + _STEP_OVERHEAD
            if sequence.size + size > self.max_bytes or not self._afford(size):
                sequence.close(True)
                return
            sequence.steps.append((name, blob))
            sequence.size += size
            self.budget.total += size
        except Exception:
            return

    def _afford(self, more: int) -> bool:
        return self.budget.total + more <= self.budget.max_total

    def _forget(self, key: int, sequence: _Sequence) -> None:
        """The object died: its id may be reused by another object, never with this sequence."""
        if self.live.get(key) is sequence:
            del self.live[key]

    def export(self) -> dict[str, Any]:
        """The dump's part: each sequence one pickle of ``[(name, pickled (args, kwargs))]``
        (base64), whether each was truncated, and how many objects were constructed."""
        import base64

        blobs, truncated = [], []
        for sequence in self.kept:
            blob = dumps(sequence.steps, protocol=HIGHEST_PROTOCOL)
            blobs.append(base64.b64encode(blob).decode("ascii"))
            truncated.append(sequence.truncated)
        return {"sequences": blobs, "sequences_truncated": truncated, "objects": self.objects}


def _python_init(cls: type) -> Any:
    """The ``__init__`` instances of ``cls`` run, when it is written in Python (found along
    the MRO: an inherited one is wrapped on ``cls`` itself, leaving the base's alone)."""
    for klass in cls.__mro__:
        init = vars(klass).get(INIT)
        if init is not None:
            return init if type(init) is _FUNCTION else None
    return None

"""A recorded sequence of calls as one timed call: ``evolver_timer``'s ``sequences`` mode.

A change to a whole class (an index built in ``__init__``, kept by ``add``, used by
``lookup``) is timed on the sequences the recorder kept, construction included, so that a
costlier constructor is paid for. :func:`sequence_calls` turns each sequence blob (a pickle of
``[(name, pickled (args, kwargs)), ...]``, the constructor first as ``"__init__"``, see
``evolver_sequences``) into a call blob of the timer's, ``((steps,), {})`` with ``steps`` a
list of ``(name, args, kwargs)``; the timer's machinery (calibration, a copy of the steps for
every loop, samples, digests) then runs unchanged on :class:`Runner`, which stands for the
function: it makes a new object of the class and calls each step on it.

Stdlib only: it runs inside the sandbox, next to candidate code. Imported only by a timing
process in that mode: every other timing process's start does not pay for it.
"""

from __future__ import annotations

import pickle
from typing import Any

from evolver_observe import Raised, call
from evolver_sequences import _Public, _steps

Step = tuple[str, tuple[Any, ...], dict[str, Any]]


def sequence_calls(blobs: list[bytes]) -> list[bytes]:
    """Each sequence as one call whose single argument is its list of steps (``ValueError``
    for a blob that is not a sequence: the original replays every one before it is timed)."""
    calls = []
    for blob in blobs:
        steps: list[Step] = []
        for name, arguments in _steps(blob):
            args, kwargs = pickle.loads(arguments)
            steps.append((name, args, kwargs))
        calls.append(pickle.dumps(((steps,), {}), pickle.HIGHEST_PROTOCOL))
    return calls


class _Made:
    """The object a constructor made, boxed: an object that is an iterator must not be drained
    by ``call`` as if it were a result."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj


def _construct(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Made:
    return _Made(cls(*args, **kwargs))


def _invoke(obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # Looked up as a caller would, inside the call: a missing method is an outcome.
    return getattr(obj, name)(*args, **kwargs)


class Runner:
    """The timed "function" for the class ``cls``: one sequence on a new object.

    It returns the steps' results (``None`` for the constructor; what ``call`` keeps: an
    exception is an outcome, not a crash), never the object itself: its private state is the
    candidate's business. A constructor that raises ends the sequence there.
    """

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __call__(self, steps: list[Step]) -> tuple[Any, ...]:
        _, args, kwargs = steps[0]
        made = call(_construct, (self.cls, args, kwargs), {})
        if isinstance(made, Raised):
            return (made,)
        obj = made.obj
        results: list[Any] = [None]
        for name, args, kwargs in steps[1:]:
            results.append(call(_invoke, (obj, name, args, kwargs), {}))
        return tuple(results)

    def describer(self, forcing: bool = False) -> _Public:
        """A describer for what a run returned: objects of the class by their public state,
        so that the original and a candidate that behave alike give the same digest; when
        ``forcing`` (reading the results on the clock), objects of the class not at all."""
        return _Forcing(self.cls) if forcing else _Public(self.cls)


class _Forcing(_Public):
    """Reads what a run returned, on the clock, as the timer forces lazy results, but not the
    class's own objects (a step that returns ``self``): their work is done by their methods,
    timed as steps, and reading a large object's state after every such step would drown
    the difference between the two sides in the cost of describing it."""

    def _described(self, value: Any, depth: int) -> Any:
        if isinstance(value, self.cls):
            return None
        return super()._described(value, depth)

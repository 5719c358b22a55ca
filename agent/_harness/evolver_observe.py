"""What a call did, in a form two processes can compare: ``describe`` and ``outcome``.

A description is plain JSON: ``None``, booleans, strings, ints and floats stand for themselves;
anything else is ``[kind, type name, payload]``: ``["seq", "list", [...]]``,
``["map", "dict", [[key, value], ...]]``, ``["set", "frozenset", [...]]`` (sorted),
``["obj", "pkg.Class", attributes]``, ``["iter", "generator", [items]]``... A mutable object
met a second time becomes ``["ref", n]``, so a result that aliases an argument differs from one
that copies it. Iterators are consumed, so a generator is judged by what it yields.

Stdlib only: it runs inside the sandbox, next to candidate code. (Over 400 lines: what a call
did and how it is described are one contract, read alike by every harness script.)
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import importlib
import json
import opcode
import os
import signal
import sys
import types
from collections.abc import Iterator, Mapping
from typing import Any

# Containers and objects whose identity matters: sharing one between the result and an
# argument is behaviour (mutating one changes the other); sharing a string is not.
_MUTABLE = (list, dict, set, bytearray)
_MAX_DEPTH = 200
# What :meth:`_Describer.describe` gives back as it is: a container holding only these is
# described in one pass of C (its outcome is digested on every timed sample, and real
# arguments are often long lists of numbers).
_AS_IS = frozenset({int, float, bool, type(None)})


class CallTimeout(BaseException):
    """Raised inside a call that ran past its time limit (a BaseException: ``except
    Exception`` in the code under test must not swallow it)."""


# Types are told apart by identity, never by the names they give: a class can claim
# ``__module__ = "builtins"`` and ``__qualname__ = "list"``, and a metaclass can make ``==`` lie.
_BUILTIN_NAMES = {
    id(kind): kind.__qualname__
    for kind in (
        type(None),
        bool,
        int,
        float,
        complex,
        str,
        bytes,
        bytearray,
        list,
        tuple,
        dict,
        set,
        frozenset,
        range,
        slice,
        type,
        object,
    )
}
_PLAIN_IDS = frozenset(id(kind) for kind in (type(None), bool, int, float, complex, str, bytes))
_CONTAINER_IDS = frozenset(id(kind) for kind in (list, tuple, set, frozenset))


def type_name(value: Any) -> str:
    """The name of ``value``'s type; a class whose name does not lead back to it is marked."""
    kind = type(value)
    builtin = _BUILTIN_NAMES.get(id(kind))
    if builtin is not None:
        return builtin
    module, qualname = (
        str(getattr(kind, "__module__", "?")),
        str(getattr(kind, "__qualname__", "?")),
    )
    # Types written in C (generators, re.Match...) cannot be made by candidate code; a class
    # written in Python must be the one its names lead to.
    if _type_flags(kind) & _HEAP_TYPE and not _resolves_to(kind, module, qualname):
        return f"{module}.{qualname}?"
    return qualname if module == "builtins" else f"{module}.{qualname}"


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
_type_flags = type.__dict__["__flags__"].__get__  # the real flags, whatever a metaclass says


def _resolves_to(kind: type, module_name: str, qualname: str) -> bool:
    """Whether ``module.qualname`` names ``kind`` itself (read from ``__dict__``s, not through
    attribute hooks the class could define). Classes local to a function never resolve."""
    owner: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        try:
            namespace = object.__getattribute__(owner, "__dict__")
        except AttributeError:
            return False
        owner = namespace.get(part) if isinstance(namespace, Mapping) else None
    return owner is kind


def resolve(module_name: str, qualname: str, reload: bool = False) -> Any:
    """The function (or method, by its dotted name) ``qualname`` of the module, imported (and
    reloaded first, with ``reload``)."""
    owner: Any = importlib.import_module(module_name)
    if reload:
        owner = importlib.reload(owner)
    for part in qualname.split("."):
        owner = getattr(owner, part)
    return owner


def describe(value: Any) -> Any:
    return _Describer().describe(value, 0)


# Where the sandbox's copy of the project lives differs from copy to copy: a path into it
# (a module's ``__file__``, a loader's path) says where the verifier ran it, not what the code
# does, so it is described relative to the copy.
_WORK = os.getcwd()
_WORK_MARK = "<project>"


def _located(text: str) -> str:
    return text.replace(_WORK, _WORK_MARK) if _WORK in text else text


class _Describer:
    def __init__(self) -> None:
        self.seen: dict[int, int] = {}
        self.keep: list[Any] = []  # ids stay unique only while their objects live

    def describe(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if kind is str:
            return _located(value)
        if value is None or kind is bool or kind is int or kind is float:
            return value
        if depth > _MAX_DEPTH:
            return ["deep"]
        try:
            return self._described(value, depth)
        except Exception as error:
            # Reading it ran the program's code, and that failed: a ``__repr__`` or a property
            # needing attributes a constructor has not set yet (``self`` on entry to
            # ``__init__``), an iterator that raises. What failed is the description: the
            # same in every process that does the same, so it compares like any other.
            return ["obj", _safe_type_name(value), ["exception", _safe_type_name(error), ""]]

    def _described(self, value: Any, depth: int) -> Any:
        if isinstance(value, _MUTABLE) or hasattr(value, "__dict__"):
            ref = self.seen.get(id(value))
            if ref is not None:
                return ["ref", ref]
            self.seen[id(value)] = len(self.seen)
            self.keep.append(value)
        name = type_name(value)
        inner = depth + 1
        if isinstance(value, types.ModuleType):  # a module is its name, not its namespace
            return ["module", name, _located(str(getattr(value, "__name__", "")))]
        if isinstance(value, (list, tuple)):
            if _AS_IS.issuperset(map(type, value)):
                return ["seq", name, list(value)]
            return ["seq", name, [self.describe(item, inner) for item in value]]
        if isinstance(value, dict):
            if _AS_IS.issuperset(map(type, value)) and _AS_IS.issuperset(map(type, value.values())):
                return ["map", name, list(map(list, value.items()))]
            pairs = [[self.describe(k, inner), self.describe(v, inner)] for k, v in value.items()]
            return ["map", name, pairs]
        if isinstance(value, (set, frozenset)):
            items = [self.describe(item, inner) for item in value]
            return ["set", name, sorted(items, key=_sort_key)]
        if isinstance(value, (bytes, bytearray)):
            return ["bytes", name, value.hex()]
        if isinstance(value, (int, float, str, complex)):  # subclasses: enums, numpy scalars
            return ["scalar", name, repr(value)]
        if isinstance(value, BaseException):
            return ["exception", name, str(value)[:500]]
        if isinstance(value, Iterator):
            return ["iter", name, [self.describe(item, inner) for item in value]]
        if isinstance(value, type) or callable(value):
            return ["callable", name, getattr(value, "__qualname__", "")]
        state = _state(value)
        if state is not None:
            return ["obj", name, self.describe(state, inner)]
        text = repr(value)
        return ["obj", name, None if " at 0x" in text else text]


def _safe_type_name(value: Any) -> str:
    """:func:`type_name`, or a mark when reading the type's names runs code that fails."""
    try:
        return type_name(value)
    except Exception:
        return "?"


def preview(tree: Any, items: int = 16, text: int = 200, depth: int = 6) -> Any:
    """A description cut down for showing (a call's arguments in a reason): at most ``items``
    items per container (then ``["deep"]``), strings cut at ``text``, ``depth`` levels."""
    if isinstance(tree, str):
        return tree[:text]
    if not isinstance(tree, list) or len(tree) != 3 or not isinstance(tree[2], list):
        return tree
    if depth <= 0:
        return ["deep"]
    kind, name, payload = tree
    if kind == "map":
        kept = [[preview(k, items, text, depth - 1), preview(v, items, text, depth - 1)]
                for k, v in payload[:items]]  # fmt: skip
        return [kind, name, kept + ([[["deep"], ["deep"]]] if len(payload) > items else [])]
    kept = [preview(item, items, text, depth - 1) for item in payload[:items]]
    return [kind, name, kept + ([["deep"]] if len(payload) > items else [])]


def _state(value: Any) -> dict[str, Any] | None:
    """An object's attributes: ``__dict__`` and the ``__slots__`` that are set."""
    state: dict[str, Any] = dict(getattr(value, "__dict__", {}) or {})
    for klass in type(value).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if isinstance(slot, str) and slot not in ("__dict__", "__weakref__"):
                with contextlib.suppress(AttributeError):
                    state[slot] = getattr(value, slot)
    return state or None


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True, allow_nan=True)


class Raised:
    """A call that raised: kept instead of a result."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class Consumed:
    """A returned iterator, drained: the items it gave and the exception that ended it."""

    def __init__(self, iterator: Iterator[Any]) -> None:
        self.kind = _safe_type_name(iterator)
        self.items: list[Any] = []
        self.error: Exception | None = None
        try:
            for item in iterator:
                self.items.append(item)
        except CallTimeout:
            raise
        except Exception as error:
            self.error = error


def plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is made of exact builtin scalars and containers only: a finished
    value, with no work left to do when it is read. Types are checked by identity (flat
    containers at C speed; a metaclass lying about ``==`` is a capability the static check
    refuses)."""
    kind = id(type(value))
    if kind in _PLAIN_IDS:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if kind in _CONTAINER_IDS:
        kinds = {*map(type, value)}
        return all(id(k) in _PLAIN_IDS for k in kinds) or all(
            plain(item, depth + 1) for item in value
        )
    if kind == id(dict):
        return all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in value.items())
    return False


def force(value: Any, describer: Any = None) -> None:
    """Do now, on the clock of whoever calls this, any work ``value`` may have deferred (a
    lazy object does it when it is read): describing it reads all of it (with ``describer``,
    as :func:`outcome` will: a candidate's private state is not read on its clock)."""
    if isinstance(value, Raised):
        _exception(value.error)
    elif isinstance(value, Consumed) or not plain(value):
        read = value.items if isinstance(value, Consumed) else value
        (_Describer() if describer is None else describer).describe(read, 0)


def call(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``function(*args, **kwargs)``, returned iterators drained, exceptions kept (not raised).

    Cheap enough to sit inside a timed loop; :func:`outcome` describes what it kept, later.
    """
    try:
        result = function(*args, **kwargs)
        if isinstance(result, Iterator):
            return Consumed(result)
        return result
    except CallTimeout:
        raise
    except Exception as error:
        return Raised(error)


# Values whose identity no caller can misuse: changing one is impossible, or changes every
# use alike (a class, a function, a module). Tuples and frozensets are looked into.
_IMMUTABLE = (
    str,
    bytes,
    int,
    float,
    complex,
    range,
    slice,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.ModuleType,
    type(None),
)
_IMMUTABLE_MODULES = frozenset({"datetime", "decimal", "fractions", "uuid", "ipaddress", "re"})
_MOST_HELD = 10_000  # objects looked at per result: a bound on the cost, not a limit on size


def mutable_held(result: Any) -> set[int]:
    """The identities of the mutable objects ``result`` holds: itself, and what its lists,
    dicts, sets, tuples and a drained iterator's items hold. Other objects count by their own
    identity only: walking their insides could run their code (so containers are walked with
    the base types' own methods)."""
    held: set[int] = set()
    seen: set[int] = set()
    stack = list(result.items) if isinstance(result, Consumed) else [result]
    while stack and len(seen) < _MOST_HELD:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        kind = type(item)
        if issubclass(kind, tuple):
            stack.extend(tuple.__iter__(item))
            continue
        if issubclass(kind, frozenset):
            stack.extend(frozenset.__iter__(item))
            continue
        if _immutable(kind):
            continue
        held.add(id(item))
        if issubclass(kind, (list, set)):
            stack.extend(list.__iter__(item) if issubclass(kind, list) else set.__iter__(item))
        elif issubclass(kind, dict):
            stack.extend(dict.keys(item))
            stack.extend(dict.values(item))
    return held


def _immutable(kind: type) -> bool:
    if issubclass(kind, _IMMUTABLE) or kind.__module__ in _IMMUTABLE_MODULES:
        return True
    if issubclass(kind, enum.Enum):  # members are one object each, by design
        return True
    params = kind.__dict__.get("__dataclass_params__")
    return bool(getattr(params, "frozen", False))


def outcome(
    result: Any, args: tuple[Any, ...], kwargs: dict[str, Any], describer: Any = None
) -> dict[str, Any]:
    """Describe what :func:`call` kept, and the arguments as they are after the call
    (``describer``: a fresh :class:`_Describer` of the caller's kind, to describe some objects
    otherwise, as replayed sequences do their class's objects)."""
    describer = _Describer() if describer is None else describer
    if isinstance(result, Raised):
        raised = {"raised": _exception(result.error), "args": describer.describe((args, kwargs), 0)}
        if _explicit(result.error):
            raised["explicit"] = True
        return raised
    # One describer for both, so that a result sharing an argument's object shows it.
    described: dict[str, Any]
    if isinstance(result, Consumed):
        items = [describer.describe(item, 1) for item in result.items]
        described = {"returned": ["iter", result.kind, items]}
        if result.error is not None:
            described["raised"] = _exception(result.error)
    else:
        described = {"returned": describer.describe(result, 0)}
    described["args"] = describer.describe((args, kwargs), 0)
    return described


def _exception(error: BaseException) -> list[str]:
    try:  # an exception's ``__str__`` is the program's code too
        message = str(error)[:500]
    except Exception as failed:
        message = f"<its message could not be read: {_safe_type_name(failed)}>"
    return [_safe_type_name(error), message]


_RAISES = frozenset(opcode.opmap[name] for name in ("RAISE_VARARGS", "RERAISE"))


def _explicit(error: BaseException) -> bool:
    """Whether a ``raise`` statement raised ``error`` (the function says no on purpose: its
    type is part of the contract), rather than an operation failing (``words[0]`` of an
    empty list, a call into C)."""
    trace = error.__traceback__
    if trace is None:
        return False
    while trace.tb_next is not None:
        trace = trace.tb_next
    code = trace.tb_frame.f_code.co_code
    return 0 <= trace.tb_lasti < len(code) and code[trace.tb_lasti] in _RAISES


def digest(observation: dict[str, Any]) -> str:
    text = json.dumps(observation, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def call_with_limit(seconds: float, function: Any, *args: Any) -> Any:
    """Run ``function(*args)`` and raise :class:`CallTimeout` inside it after ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise CallTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

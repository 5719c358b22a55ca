"""Generates inputs for a property check: ``python evolver_inputs.py SPEC``.

``SPEC`` (JSON): ``module``, ``qualname``, ``calls`` (a calls file, see ``evolver_blobs``, of
pickled recorded calls), ``count``, ``out``.
Each parameter's values are drawn by hypothesis from a strategy inferred from the values it
was really called with (their types, sizes and ranges, and the values themselves), or from its
type hint when it was never recorded. The strategies reach for the edge cases: empty, zero,
negative, unicode, duplicates and, where the parameter is not typed more narrowly, unhashable
items in collections. Writes ``{"calls": [base64 pickles of (args, kwargs)], "note": ...}``.

Runs the original code only (in the original's sandbox), never a candidate.
"""

from __future__ import annotations

import base64
import collections.abc
import contextlib
import importlib
import inspect
import json
import pickle
import sys
import typing
from typing import Any

from evolver_blobs import load_calls
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

_MISSING = object()  # a parameter left to its default
_MAX_ITEMS = 40
_MAX_TEXT = 120
_BROAD = (
    typing.Any,
    object,
    list,
    tuple,
    dict,
    set,
    collections.abc.Iterable,
    collections.abc.Sequence,
    collections.abc.Collection,
    collections.abc.Mapping,
)


def _resolve(module_name: str, qualname: str) -> Any:
    owner: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        owner = getattr(owner, part)
    return inspect.unwrap(owner)


def infer(values: list[Any], broad: bool) -> st.SearchStrategy[Any]:
    """A strategy for values like ``values``; ``broad``: collections may hold unhashables."""
    groups: dict[type, list[Any]] = {}
    for value in values:
        groups.setdefault(type(value), []).append(value)
    options = [_infer_kind(kind, group, broad) for kind, group in groups.items()]
    return st.one_of(*options) if options else st.nothing()


def _infer_kind(kind: type, values: list[Any], broad: bool) -> st.SearchStrategy[Any]:
    seen = st.sampled_from(values[:200])
    if kind is bool or values[0] is None:
        return seen
    if kind is int:
        low, high = min(values), max(values)
        return st.one_of(seen, st.integers(min(low, -2), max(high, 2)))
    if kind is float:
        finite = [v for v in values if v == v and abs(v) != float("inf")] or [0.0]
        low, high = min(min(finite), -1.0), max(max(finite), 1.0)
        return st.one_of(seen, st.floats(low, high, allow_nan=False, allow_infinity=False))
    if kind is str:
        longest = min(max(len(v) for v in values), _MAX_TEXT)
        alphabet = sorted(set("".join(values))) or ["a"]
        return st.one_of(
            seen,
            st.text(st.sampled_from(alphabet), max_size=longest),
            st.text(max_size=min(longest, 12)),  # unicode beyond what was seen
        )
    if kind is bytes:
        return st.one_of(seen, st.binary(max_size=min(max(len(v) for v in values), _MAX_TEXT)))
    if kind in (list, tuple, set, frozenset):
        items = [item for value in values for item in value][:500]
        longest = min(max(len(v) for v in values), _MAX_ITEMS)
        if kind is tuple and len({len(v) for v in values}) == 1:
            width = len(values[0])
            return st.one_of(
                seen, st.tuples(*(infer([v[i] for v in values], broad) for i in range(width)))
            )
        if not items:
            return seen
        item = infer(items, broad)
        if kind in (set, frozenset):
            return st.one_of(seen, st.sets(item, max_size=longest).map(kind))
        if broad and all(_hashable(i) for i in items):
            item = st.one_of(item, st.lists(item, max_size=3))
        return st.one_of(seen, st.lists(item, max_size=longest).map(kind))
    if kind is dict:
        keys = [k for value in values for k in value][:500]
        vals = [v for value in values for v in value.values()][:500]
        if not keys:
            return seen
        longest = min(max(len(v) for v in values), _MAX_ITEMS)
        return st.one_of(
            seen, st.dictionaries(infer(keys, False), infer(vals, broad), max_size=longest)
        )
    return seen  # objects of the program's own types: the recorded ones


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _is_broad(annotation: Any) -> bool:
    """Unannotated, or a hint that says nothing about what the items are."""
    return annotation is inspect.Parameter.empty or annotation in _BROAD


def strategy_for(function: Any, recorded: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> Any:
    """A strategy for whole calls ``(args, kwargs)``, or ``None`` with nothing to go on."""
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    seen: dict[str, list[Any]] = {name: [] for name in signature.parameters}
    for args, kwargs in recorded:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            continue
        for name in seen:
            seen[name].append(bound.arguments.get(name, _MISSING))
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            values = [v for v in seen[name] if v is not _MISSING]
            parts[name] = st.sampled_from(values) if values else st.just(_MISSING)
            continue
        values = [v for v in seen[name] if v is not _MISSING]
        broad = _is_broad(hints.get(name, parameter.annotation))
        if values:
            strategy = infer(values, broad)
        elif name in hints and parameter.default is parameter.empty:
            strategy = st.from_type(hints[name])
        elif parameter.default is not parameter.empty:
            strategy = st.just(_MISSING)
        else:
            return None
        if _MISSING in seen[name]:
            strategy = st.one_of(st.just(_MISSING), strategy)
        parts[name] = strategy
    return st.fixed_dictionaries(parts).map(lambda drawn: _as_call(signature, drawn))


def _as_call(
    signature: inspect.Signature, drawn: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, parameter in signature.parameters.items():
        value = drawn[name]
        if value is _MISSING:
            continue
        if parameter.kind is parameter.VAR_POSITIONAL:
            args.extend(value)
        elif parameter.kind is parameter.VAR_KEYWORD:
            kwargs.update(value)
        elif parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[name] = value
        else:
            args.append(value)
    return tuple(args), kwargs


def generate(function: Any, recorded: list[bytes], count: int) -> tuple[list[bytes], str | None]:
    calls = [pickle.loads(blob) for blob in recorded]
    strategy = strategy_for(function, calls)
    if strategy is None:
        return [], "no recorded calls or type hints to generate inputs from"
    found: dict[bytes, None] = {}

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(call: tuple[tuple[Any, ...], dict[str, Any]]) -> None:
        with contextlib.suppress(Exception):  # an input we cannot carry is just not used
            found[pickle.dumps(call)] = None

    collect()
    fresh = [blob for blob in found if blob not in set(recorded)]
    return fresh, None


def main(spec_path: str) -> None:
    with open(spec_path) as text:
        spec = json.load(text)
    recorded = load_calls(spec["calls"])
    try:
        function = _resolve(spec["module"], spec["qualname"])
        calls, note = generate(function, recorded, spec["count"])
    except Exception as error:
        calls, note = [], f"cannot generate inputs: {type(error).__name__}: {error}"[:300]
    with open(spec["out"], "w") as out:
        encoded = [base64.b64encode(blob).decode() for blob in calls]
        json.dump({"calls": encoded, "note": note}, out)


if __name__ == "__main__":
    main(sys.argv[1])

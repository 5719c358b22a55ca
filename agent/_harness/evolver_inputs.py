"""Generates inputs for the behaviour check: ``python evolver_inputs.py SPEC``.

``SPEC`` (JSON): ``module``, ``qualname``, ``calls`` (a calls file, see ``evolver_blobs``, of
pickled real calls: the workload's and the tests'), ``count``, ``probes``, ``out``.

Two kinds of input, because they are evidence of two strengths:

- **In-domain calls** stay within what the real calls show, per parameter and per element:
  the types seen (and those the type hints or defaults name), and the structure every real
  value had: numbers keep their sign and range (its edges and its smallest numbers are always
  drawn), strings their alphabet (by character class) and length, sequences their item types
  and length, and stay sorted, free of duplicates or made of equal-length rows when every
  real one was; a tuple always of one width keeps it (per position); dicts keep their key set
  when it never varied. An expert would call any of these a fair input, so a rewrite must
  behave the same on them.
- **Probes** are of a type or shape no real call had (a list where every call passed a
  string, unhashable items, ragged rows, unsorted input to a function always given sorted
  lists, values out of range). A difference there is worth showing, not proof of a bug: the
  function's contract may well exclude the input.

Both are drawn by hypothesis; every drawn call is sorted into one kind or the other by
:meth:`Domain.admits`, so the two can never overlap. Writes
``{"calls": [...], "probes": [...], "note": ...}`` (base64 pickles of ``(args, kwargs)``,
smallest first: the first difference found is then the simplest to read).

Runs the original code only (in the original's sandbox), never a candidate.

(Over 400 lines on purpose: the domains inferred from real calls and how inputs are drawn
from them are one inference, and this file runs alone in the sandbox beside its siblings.)
"""

from __future__ import annotations

import base64
import collections.abc
import contextlib
import inspect
import itertools
import json
import pickle
import string
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from evolver_blobs import load_calls
from evolver_observe import resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

_MISSING = object()  # a parameter left to its default
_MAX_ITEMS = 40
_MAX_TEXT = 120
_MAX_DEPTH = 6
_SAMPLE = 200  # recorded values a strategy samples from
# Items (in values of two or more) it takes to believe that values are kept sorted, or free of
# duplicates, rather than so by chance.
_ORDER_EVIDENCE = 6
_UNIQUE_EVIDENCE = 8
_CHARACTER_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
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


def picked(values: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``values``, by position: ``st.sampled_from`` hashes its elements, and the
    program's objects may not hash (``self`` recorded on entry to ``__init__`` has none of
    the attributes its ``__hash__`` reads)."""
    if not values:
        return st.nothing()
    return st.integers(0, len(values) - 1).map(values.__getitem__)


class Domain(Protocol):
    """What the evidence says one value may be: a strategy inside it, and a membership test."""

    def strategy(self) -> st.SearchStrategy[Any]: ...

    def admits(self, value: Any) -> bool: ...


@dataclass
class Exact:
    """Only the values seen: booleans, ``None``, objects of the program's own types."""

    values: list[Any]

    def strategy(self) -> st.SearchStrategy[Any]:
        return picked(self.values[:_SAMPLE])

    def admits(self, value: Any) -> bool:
        return any(type(seen) is type(value) and _equal(seen, value) for seen in self.values)


@dataclass
class Numbers:
    """Ints or floats between the bounds seen, widened to zero on their side of it."""

    kind: type[Any]
    low: Any
    high: Any
    specials: list[float] = field(default_factory=list)  # NaN and infinities seen

    def strategy(self) -> st.SearchStrategy[Any]:
        drawn: st.SearchStrategy[Any]
        if self.kind is int:
            drawn = st.integers(self.low, self.high)
        else:
            drawn = st.floats(self.low, self.high, allow_nan=False, allow_infinity=False)
        # The edges of the range and the smallest numbers in it, where off-by-one and
        # special-case bugs live (1 is a perfect square; 0 and 1 are sizes of their own):
        # always among the draws, not left to the luck of a few dozen from a wide range.
        edges = [self.low, self.high, *(self.kind(n) for n in (-2, -1, 0, 1, 2, 3, 4))]
        if self.kind is int:
            edges += [self.low + 1, self.high - 1]
        inside = sorted({edge for edge in edges if self.low <= edge <= self.high})
        return st.one_of(
            st.sampled_from(inside),
            drawn,
            *([st.sampled_from(self.specials)] if self.specials else []),
        )

    def admits(self, value: Any) -> bool:
        if type(value) is not self.kind:
            return False
        if value in self.specials or (value != value and any(s != s for s in self.specials)):
            return True
        return bool(self.low <= value <= self.high)


@dataclass
class Text:
    """Strings (or bytes) over the characters seen, by class, up to the longest seen."""

    kind: type[Any]
    alphabet: list[Any]
    longest: int

    def strategy(self) -> st.SearchStrategy[Any]:
        if self.kind is bytes:
            return st.lists(st.sampled_from(self.alphabet), max_size=self.longest).map(bytes)
        return st.text(st.sampled_from(self.alphabet), max_size=self.longest)

    def admits(self, value: Any) -> bool:
        return (
            type(value) is self.kind
            and len(value) <= self.longest
            and set(value) <= set(self.alphabet)
        )


@dataclass
class Items:
    """Lists, tuples, sets: items from one domain, and the structure every value kept."""

    kind: type[Any]
    item: Domain
    longest: int
    ordered: bool = False  # every value with two items or more was sorted
    unique: bool = False  # no value ever held the same item twice
    rows: bool = False  # a list of lists whose rows are all of one length in each value

    def strategy(self) -> st.SearchStrategy[Any]:
        if self.kind in (set, frozenset):
            return st.sets(self.item.strategy(), max_size=self.longest).map(self.kind)
        row = self.item.parts.get(list) if isinstance(self.item, Union) else None
        if self.rows and isinstance(row, Items):
            drawn = _rows(row, self.longest)
        else:
            drawn = st.lists(self.item.strategy(), max_size=self.longest, unique=self.unique)
        return (drawn.map(sorted) if self.ordered else drawn).map(self.kind)

    def admits(self, value: Any) -> bool:
        if type(value) is not self.kind or len(value) > self.longest:
            return False
        items = list(value)
        if not all(self.item.admits(item) for item in items):
            return False
        if self.ordered and not _sorted(items):
            return False
        if self.unique and not _unique(items):
            return False
        return not self.rows or len({len(row) for row in items}) <= 1


@st.composite
def _rows(draw: Any, row: Items, longest: int) -> list[Any]:
    """Rows of one width, up to the widest seen, their cells from ``row``'s item domain."""
    width = draw(st.integers(0, row.longest))
    cell = row.item.strategy()
    return draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=longest))


@dataclass
class Record:
    """Tuples always of one width (pairs, intervals, records): a domain per position."""

    positions: list[Domain]
    ordered: bool = False  # every one was sorted, as an interval's ends are

    def strategy(self) -> st.SearchStrategy[Any]:
        drawn = st.tuples(*(position.strategy() for position in self.positions))
        return drawn.map(lambda values: tuple(sorted(values))) if self.ordered else drawn

    def admits(self, value: Any) -> bool:
        return (
            type(value) is tuple
            and len(value) == len(self.positions)
            and all(p.admits(v) for p, v in zip(self.positions, value, strict=True))
            and (not self.ordered or _sorted(list(value)))
        )


@dataclass
class Mapping:
    """Dicts: a fixed key set when it never varied (a domain per key), else keys and values."""

    keys: Domain
    values: Domain
    longest: int
    fixed: dict[Any, Domain] | None = None

    def strategy(self) -> st.SearchStrategy[Any]:
        if self.fixed is not None:
            return st.fixed_dictionaries({k: d.strategy() for k, d in self.fixed.items()})
        return st.dictionaries(self.keys.strategy(), self.values.strategy(), max_size=self.longest)

    def admits(self, value: Any) -> bool:
        if type(value) is not dict:
            return False
        if self.fixed is not None:
            return set(value) == set(self.fixed) and all(
                self.fixed[key].admits(item) for key, item in value.items()
            )
        return len(value) <= self.longest and all(
            self.keys.admits(key) and self.values.admits(item) for key, item in value.items()
        )


@dataclass
class Union:
    """One domain per type seen, and the types only the hints name (drawn from the hint)."""

    parts: dict[type, Domain]
    hinted: list[Any] = field(default_factory=list)

    def strategy(self) -> st.SearchStrategy[Any]:
        drawn = [part.strategy() for part in self.parts.values()]
        drawn += [st.from_type(hint) for hint in self.hinted]
        return st.one_of(*drawn) if drawn else st.nothing()

    def admits(self, value: Any) -> bool:
        part = self.parts.get(type(value))
        if part is not None and part.admits(value):
            return True
        return any(_instance(value, hint) for hint in self.hinted)


def domain_of(values: list[Any], hints: Sequence[Any] = (), depth: int = 0) -> Union:
    """The domain the ``values`` show, widened by the type ``hints``."""
    parts = {kind: _part(kind, group, depth) for kind, group in _grouped(values).items()}
    hinted = [hint for hint in hints if (typing.get_origin(hint) or hint) not in parts]
    return Union(parts, hinted)


def _part(kind: type, values: list[Any], depth: int) -> Domain:
    if depth >= _MAX_DEPTH or kind is bool or values[0] is None:
        return Exact(values)
    if kind in (int, float):
        finite = [v for v in values if v == v and abs(v) != float("inf")]
        if not finite:
            return Exact(values)
        low, high = min(finite), max(finite)
        low, high = (kind(0) if low >= 0 else low), (kind(0) if high <= 0 else high)
        return Numbers(kind, low, high, [v for v in values if v not in finite])
    if kind in (str, bytes):
        return Text(kind, _alphabet(values), min(max(len(v) for v in values), _MAX_TEXT))
    if kind is tuple and len({len(v) for v in values}) == 1 and 0 < len(values[0]) <= 8:
        width = len(values[0])
        positions: list[Domain] = [
            domain_of([v[i] for v in values], depth=depth + 1) for i in range(width)
        ]
        ordered = width > 1 and all(_sorted(list(v)) for v in values)
        return Record(positions, ordered)
    if kind in (list, tuple, set, frozenset):
        return _items(kind, values, depth)
    if kind is dict:
        return _mapping(values, depth)
    return Exact(values)


def _items(kind: type, values: list[Any], depth: int) -> Domain:
    items = [item for value in values for item in value][: _SAMPLE * 4]
    if not items:
        return Exact(values)
    longest = min(max(len(v) for v in values), _MAX_ITEMS)
    sequences = kind in (list, tuple)
    several = [list(v) for v in values if len(v) >= 2]
    evidence = sum(map(len, several))
    ordered = sequences and evidence >= _ORDER_EVIDENCE and all(_sorted(v) for v in several)
    unique = sequences and evidence >= _UNIQUE_EVIDENCE and all(_unique(v) for v in several)
    rows = (
        kind is list
        and all(type(item) is list for item in items)
        and any(len(v) >= 2 for v in values)
        and all(len({len(row) for row in v}) <= 1 for v in values)
    )
    item = domain_of(items, depth=depth + 1)
    return Items(kind, item, longest, ordered, unique, rows)


def _mapping(values: list[dict[Any, Any]], depth: int) -> Domain:
    key_sets = {frozenset(map(_hash_key, v)) for v in values}
    if len(key_sets) == 1 and values[0] and all(_hashable(k) for k in values[0]):
        fixed: dict[Any, Domain] = {
            key: domain_of([v[key] for v in values], depth=depth + 1) for key in values[0]
        }
        return Mapping(Exact([]), Exact([]), len(fixed), fixed)
    keys = [k for v in values for k in v][: _SAMPLE * 4]
    items = [item for v in values for item in v.values()][: _SAMPLE * 4]
    if not keys:
        return Exact(values)
    longest = min(max(len(v) for v in values), _MAX_ITEMS)
    return Mapping(domain_of(keys, depth=depth + 1), domain_of(items, depth=depth + 1), longest)


def _alphabet(values: list[Any]) -> list[Any]:
    """The characters (or byte values) seen, each letter or digit widened to its class."""
    seen: set[Any] = set()
    for value in values:
        seen.update(value)
    if not seen:
        return [b"a"[0]] if values and type(values[0]) is bytes else ["a"]
    widened = set(seen)
    for characters in _CHARACTER_CLASSES:
        members: set[Any] = set(characters)
        if type(values[0]) is bytes:
            members = set(characters.encode())
        if seen & members:
            widened |= members
    return sorted(widened)


def _sorted(items: list[Any]) -> bool:
    try:
        return all(a <= b for a, b in itertools.pairwise(items))
    except Exception:
        return False


def _unique(items: list[Any]) -> bool:
    try:
        return len(set(items)) == len(items)
    except Exception:  # unhashable, or a ``__hash__`` that fails (a half-built object)
        return False


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except Exception:  # unhashable, or a ``__hash__`` that fails (a half-built object)
        return False
    return True


def _hash_key(key: Any) -> Any:
    return key if _hashable(key) else repr(key)


def _equal(one: Any, other: Any) -> bool:
    try:
        return one is other or bool(one == other)
    except Exception:
        return False


def _instance(value: Any, hint: Any) -> bool:
    kind = typing.get_origin(hint) or hint
    try:
        return isinstance(value, kind)
    except TypeError:
        return False


def probe_of(values: list[Any]) -> st.SearchStrategy[Any]:
    """Values around ``values`` an expert might not call fair: other types and shapes."""
    options = [_probe_kind(kind, group) for kind, group in _grouped(values).items()]
    seen = picked(values[:_SAMPLE]) if values else st.none()
    options += [st.none(), st.lists(seen, max_size=3)]  # nothing, or a list where a value was
    return st.one_of(*options)


def relaxed(domain: Domain) -> st.SearchStrategy[Any] | None:
    """Values of the domain's types without its structure: unsorted where every real value
    was sorted, duplicates where none had any, ragged rows, intervals the wrong way round,
    records of another width, dicts missing keys. ``None`` when there is no structure."""
    if isinstance(domain, Union):
        found = [r for part in domain.parts.values() if (r := relaxed(part)) is not None]
        return st.one_of(*found) if found else None
    if isinstance(domain, Items) and (domain.ordered or domain.unique or domain.rows):
        drawn = st.lists(domain.item.strategy(), min_size=2, max_size=max(2, domain.longest))
        if domain.ordered:  # most random lists of two or three items are sorted already
            drawn = st.one_of(drawn, drawn.map(lambda items: sorted(items, reverse=True)))
        return drawn.map(domain.kind)
    if isinstance(domain, Record):
        positions = [p.strategy() for p in domain.positions]
        shorter = st.tuples(*positions[:-1])
        return st.one_of(st.tuples(*positions), shorter, st.tuples(*positions, positions[-1]))
    if isinstance(domain, Mapping) and domain.fixed is not None:
        optional = {key: part.strategy() for key, part in domain.fixed.items()}
        return st.fixed_dictionaries({}, optional=optional)
    return None


def _grouped(values: list[Any]) -> dict[type, list[Any]]:
    groups: dict[type, list[Any]] = {}
    for value in values:
        groups.setdefault(type(value), []).append(value)
    return groups


def _probe_kind(kind: type, values: list[Any]) -> st.SearchStrategy[Any]:
    seen = picked(values[:_SAMPLE])
    if kind is int:
        return st.integers(min(min(values), -2) - 10, max(max(values), 2) + 10)
    if kind is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind is str:
        return st.text(max_size=12)
    if kind is bytes:
        return st.binary(max_size=12)
    if kind in (list, tuple, set, frozenset):
        items = [item for value in values for item in value][: _SAMPLE * 4]
        if not items:
            return seen
        item = st.one_of(probe_of(items), picked(items[:_SAMPLE]))
        if kind in (set, frozenset):
            return st.sets(picked(items[:_SAMPLE]), max_size=_MAX_ITEMS).map(kind)
        return st.lists(item, max_size=_MAX_ITEMS).map(kind)
    if kind is dict:
        keys = [k for value in values for k in value][: _SAMPLE * 4]
        vals = [v for value in values for v in value.values()][: _SAMPLE * 4]
        if not keys:
            return seen
        return st.dictionaries(picked(keys), probe_of(vals), max_size=_MAX_ITEMS)
    return seen


def _hint_members(annotation: Any) -> list[Any]:
    """The members of a hint's union (``int | None`` gives ``int`` and ``NoneType``); none for
    a hint that says nothing (``Any``, bare ``list``...)."""
    if annotation is inspect.Parameter.empty or annotation in _BROAD:
        return []
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = list(typing.get_args(annotation))
    else:
        members = [annotation]
    return [m for m in members if isinstance(typing.get_origin(m) or m, type)]


@dataclass
class Parameter:
    """One parameter: its domain, its probes, and whether calls left it to its default."""

    parameter: inspect.Parameter
    domain: Domain | None  # None: a ``*args`` or ``**kwargs``, replayed as seen
    probes: st.SearchStrategy[Any] | None
    seen: list[Any]
    omitted: bool  # some call left it out


def parameters(function: Any, recorded: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> Any:
    """Each parameter's :class:`Parameter`, or ``None`` with nothing to go on."""
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
    found: dict[str, Parameter] = {}
    for name, parameter in signature.parameters.items():
        values = [v for v in seen[name] if v is not _MISSING]
        omitted = any(v is _MISSING for v in seen[name])  # ``in`` would run their ``__eq__``
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            found[name] = Parameter(parameter, None, None, values, omitted or not values)
            continue
        hinted = _hint_members(hints.get(name, parameter.annotation))
        if parameter.default is None:  # None is a value callers may pass on purpose
            hinted.append(type(None))
        if not values and parameter.default is not parameter.empty:
            found[name] = Parameter(parameter, None, None, [], True)  # always left to it
            continue
        if not values and not hinted:
            return None
        # The object a method is called on is the program's own: probing it says nothing.
        receiver = name in ("self", "cls") and name == next(iter(signature.parameters))
        domain = domain_of(values, hinted)
        probes = None
        if values and not receiver:
            loosened = relaxed(domain)
            probes = probe_of(values) if loosened is None else st.one_of(probe_of(values), loosened)
        found[name] = Parameter(parameter, domain, probes, values, omitted)
    return signature, found


def _call_strategy(
    signature: inspect.Signature, found: dict[str, Parameter], probing: bool
) -> st.SearchStrategy[Any]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for name, parameter in found.items():
        if parameter.domain is None:
            drawn = picked(parameter.seen) if parameter.seen else st.just(_MISSING)
        elif probing and parameter.probes is not None:
            drawn = st.one_of(parameter.domain.strategy(), parameter.probes)
        else:
            drawn = parameter.domain.strategy()
        if parameter.omitted and parameter.domain is not None:
            drawn = st.one_of(st.just(_MISSING), drawn)
        parts[name] = drawn
    return st.fixed_dictionaries(parts)


def in_domain(found: dict[str, Parameter], drawn: dict[str, Any]) -> bool:
    """Whether every argument of a drawn call is inside its parameter's domain."""
    for name, value in drawn.items():
        parameter = found[name]
        if value is _MISSING or parameter.domain is None:
            continue
        if not parameter.domain.admits(value):
            return False
    return True


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


def _draw(strategy: st.SearchStrategy[Any], count: int, keep: Any) -> list[dict[str, Any]]:
    """Up to ``count`` distinct draws that ``keep`` accepts."""
    found: dict[bytes, dict[str, Any]] = {}

    @settings(
        max_examples=count * 3,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(drawn: dict[str, Any]) -> None:
        if len(found) >= count:
            return
        with contextlib.suppress(Exception):  # an input we cannot carry is just not used
            if keep(drawn):
                found.setdefault(pickle.dumps(drawn), drawn)

    with contextlib.suppress(Exception):  # a strategy that fails to draw ends the drawing
        collect()
    return list(found.values())


def generate(
    function: Any, recorded: list[bytes], count: int, probes: int
) -> tuple[list[bytes], list[bytes], str | None]:
    """In-domain calls and probes (pickled, smallest first), and a note when there are none."""
    calls = [pickle.loads(blob) for blob in recorded]
    shaped = parameters(function, calls)
    if shaped is None:
        return [], [], "no recorded calls or type hints to generate inputs from"
    signature, found = shaped
    inside = _draw(_call_strategy(signature, found, False), count, lambda d: in_domain(found, d))
    outside = _draw(
        _call_strategy(signature, found, True), probes, lambda d: not in_domain(found, d)
    )
    known = set(recorded)

    def pickled(draws: list[dict[str, Any]]) -> list[bytes]:
        blobs = []
        for drawn in draws:
            with contextlib.suppress(Exception):
                blobs.append(pickle.dumps(_as_call(signature, drawn)))
        return sorted((b for b in dict.fromkeys(blobs) if b not in known), key=len)

    return pickled(inside), pickled(outside), None


def main(spec_path: str) -> None:
    with open(spec_path) as text:
        spec = json.load(text)
    recorded = load_calls(spec["calls"])
    try:
        function = inspect.unwrap(resolve(spec["module"], spec["qualname"]))
        calls, probes, note = generate(function, recorded, spec["count"], spec.get("probes", 0))
    except Exception as error:
        calls, probes, note = [], [], f"cannot generate inputs: {type(error).__name__}: {error}"
    with open(spec["out"], "w") as out:
        json.dump(
            {
                "calls": [base64.b64encode(blob).decode() for blob in calls],
                "probes": [base64.b64encode(blob).decode() for blob in probes],
                "note": None if note is None else note[:300],
            },
            out,
        )


if __name__ == "__main__":
    main(sys.argv[1])

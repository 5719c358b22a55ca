"""Attribute a merged profile's time to the repository's functions.

pstats keeps per function its calls, own and cumulative time, and each caller's part of them;
that is all a profile keeps of the call tree. From it, a repository function's own time is
its own lines plus the library calls it makes, less the repository code those calls run back
(``"".join(gen)``, ``sorted(key=f)``): so no time counts twice, and own ≤ cumulative always.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

from agent.domain import FunctionProfile, TargetRef
from agent.project.testlayout import TestLayout
from agent.rank.codeindex import FunctionSpan, index_functions
from agent.verify.untrusted import UntrustedDataError, read_bounded

FunctionKey = tuple[str, int, str]  # pstats: (filename, first line, name)
CallerFigures = tuple[int, int, float, float]  # calls, primitive calls, own time, cumulative
# Per function: primitive calls, calls, own time, cumulative time, and its callers' figures.
Stats = dict[FunctionKey, tuple[int, int, float, float, dict[FunctionKey, CallerFigures]]]

MAX_SOURCE_BYTES = 16 * 1024 * 1024


def attribute(raw: Stats, root: Path) -> tuple[dict[TargetRef, FunctionProfile], float]:
    """Per repository function: own time (with the library calls it makes), cumulative, calls.

    A function's own time is its cumulative time less the time of the repository's other
    code beneath it: its own lines, its comprehensions, generator expressions and lambdas, and
    the library calls it makes count, but a library call that runs other repository code
    back (``"".join(words(n))``, ``sum(map(weight, xs))``, ``sorted(xs, key=weight)``) does
    not count that code, whose own time it is. So no function's own time exceeds its
    cumulative time (checked), and no time counts twice. Tests, benchmarks, the standard
    library and installed packages are not the repository's code.
    """
    total = sum(entry[2] for entry in raw.values()) or 1e-12
    graph = _CallGraph(raw, Owners(root))
    code: dict[TargetRef, list[FunctionKey]] = defaultdict(list)  # itself, then nested
    cum: dict[TargetRef, float] = defaultdict(float)
    calls: dict[TargetRef, int] = defaultdict(int)
    for key, (_, ncalls, _, cum_time, _) in raw.items():
        ref, is_itself = graph.place(key)
        if ref is not None:
            code[ref].append(key)
        if ref is not None and is_itself:
            cum[ref] += cum_time
            calls[ref] += ncalls
    profiles = {}
    for ref in cum:
        own_time = _within_cumulative(ref, graph.own_time(ref, code[ref], cum[ref]), cum[ref])
        profiles[ref] = FunctionProfile(own_time, cum[ref], calls[ref], own_time / total)
    return profiles, total


# Float rounding when figures are summed and scaled: an excess this small is no excess.
ROUNDING = 1e-9


def _within_cumulative(ref: TargetRef, own: float, cum: float) -> float:
    """``own``, which cannot exceed ``cum``: it is time spent beneath the function. Only
    rounding may make it look larger; anything more is a bug in the attribution."""
    if own <= cum:
        return own
    if own - cum <= ROUNDING * max(1.0, cum):
        return cum
    raise AssertionError(f"{ref}: own time {own!r}s exceeds cumulative time {cum!r}s")


class _CallGraph:
    """pstats' caller graph, with the repository's code marked in it.

    pstats keeps, per function, each caller's part of its calls and times: ``ct(C<-P)`` is
    the cumulative time of ``C`` when ``P`` called it. That is all a profile keeps of the call
    tree, so what ran beneath what is read off it in proportion, or bounded by it.
    """

    def __init__(self, raw: Stats, owners: Owners) -> None:
        self.raw = raw
        self.owners = owners
        self.places: dict[FunctionKey, tuple[TargetRef | None, bool]] = {}
        self.callees: dict[FunctionKey, dict[FunctionKey, float]] = defaultdict(dict)
        for key, entry in raw.items():
            for caller, figures in entry[4].items():
                self.callees[caller][key] = figures[3]
        self.repository_shares: dict[FunctionKey, float] = {}
        self.room_beneath: dict[TargetRef, dict[tuple[FunctionKey, int], float]] = defaultdict(dict)
        self.caller_edges: dict[FunctionKey, list[tuple[FunctionKey, float]]] = {}

    def place(self, key: FunctionKey) -> tuple[TargetRef | None, bool]:
        """The repository function ``key`` belongs to (None: not the repository's code), and
        whether it is that function itself (rather than a comprehension or lambda in it)."""
        if key not in self.places:
            self.places[key] = self.owners.of(key)
        return self.places[key]

    def cumulative(self, key: FunctionKey) -> float:
        entry = self.raw.get(key)
        return entry[3] if entry is not None else 0.0

    def own_time(self, ref: TargetRef, keys: list[FunctionKey], cum: float) -> float:
        """``ref``'s cumulative time ``cum`` less the time of other repository code beneath
        it; never less than the time spent in its own lines. ``keys`` are its code: itself
        and the comprehensions and lambdas in it."""
        mine = set(keys)
        lines = sum(self.raw[key][2] for key in keys if self.place(key)[1])
        other = 0.0
        for key in keys:
            weight = 1.0 if self.place(key)[1] else self._share_beneath(key, ref)
            calls = self.callees[key].items()
            if weight > 0:
                other += weight * sum(self._other_code(c, ct, mine) for c, ct in calls)
        return max(lines, cum - other)

    def _other_code(self, callee: FunctionKey, cumulative: float, mine: set[FunctionKey]) -> float:
        """How much of a call's ``cumulative`` time was spent in repository code other than
        ``mine``: all of it for another function; for a library function, its share of
        repository code, less what its calls of ``mine`` (a generator expression joined, a
        key, a recursive call) can hold."""
        if callee in mine:
            return 0.0
        if self.place(callee)[0] is not None:
            return cumulative
        repository = cumulative * self._repository_share(callee)
        below = self.callees[callee]
        return max(0.0, repository - min(cumulative, sum(below.get(k, 0.0) for k in mine)))

    def _share_beneath(self, key: FunctionKey, ref: TargetRef) -> float:
        """The share of a comprehension's or lambda's time that can have run beneath ``ref``."""
        cumulative = self.cumulative(key)
        return min(1.0, self.beneath(key, ref) / cumulative) if cumulative > 0 else 0.0

    def _repository_share(self, key: FunctionKey) -> float:
        """The share of library function ``key``'s time spent running the repository's code:
        each callee's share of its time, whole for repository code, else in proportion to
        that callee's own repository share."""

        def fixed(node: FunctionKey) -> float | None:
            return 1.0 if self.place(node)[0] is not None else None

        def callees(node: FunctionKey) -> list[tuple[FunctionKey, float]]:
            total = self.cumulative(node)
            if total <= 0:
                return []
            return [(c, ct / total) for c, ct in self.callees[node].items()]

        return _propagate(key, fixed, callees, self.repository_shares)

    def beneath(self, key: FunctionKey, ref: TargetRef) -> float:
        """At most how much of ``key``'s time ran beneath a call of ``ref``: what fits through
        its callers, and theirs, to a call of ``ref`` at most ``_MOST_HOPS`` calls up. A path
        that never reaches ``ref`` lets nothing through: a generator ``ref`` returned runs in
        its caller, a lambda it stored in whoever calls it later."""
        memo = self.room_beneath[ref]

        def room(node: FunctionKey, hops: int) -> float:
            if self.place(node) == (ref, True):
                return math.inf
            if hops == 0:
                return 0.0
            known = memo.get((node, hops))
            if known is None:
                edges = self._callers(node)
                known = sum(min(ct, room(caller, hops - 1)) for caller, ct in edges if ct > 0)
                memo[(node, hops)] = known
            return known

        return room(key, _MOST_HOPS)

    def _callers(self, key: FunctionKey) -> list[tuple[FunctionKey, float]]:
        """Who called ``key``, and its cumulative time in their calls (the same for every
        function asked about: made once)."""
        edges = self.caller_edges.get(key)
        if edges is None:
            entry = self.raw.get(key)
            callers = entry[4].items() if entry is not None else ()
            edges = [(caller, figures[3]) for caller, figures in callers]
            self.caller_edges[key] = edges
        return edges


# How far up a comprehension or lambda is looked for its function: through a library call
# (``"".join``, ``sorted``), a helper it was passed to, and one more call.
_MOST_HOPS = 3


_Node = TypeVar("_Node", bound=Hashable)


def _propagate(
    start: _Node,
    fixed: Callable[[_Node], float | None],
    edges: Callable[[_Node], list[tuple[_Node, float]]],
    memo: dict[_Node, float],
) -> float:
    """A fraction over a graph: a node's ``fixed`` value where it has one, else the sum over
    its edges of the edge's weight times its neighbour's fraction, at most 1. Iterative, since
    call graphs run deep; an edge back to a node still being summed adds nothing (a recursive
    call's time is within the outer call's already); results are kept in ``memo``."""
    on_path: set[_Node] = set()
    stack: list[tuple[_Node, list[tuple[_Node, float]], list[float]]] = []  # [next edge, sum]

    def enter(node: _Node) -> float | None:
        """The node's value if known now; else the node goes on the stack to be summed."""
        if node in memo:
            return memo[node]
        value = fixed(node)
        if value is not None:
            memo[node] = value
            return value
        if node in on_path:
            return 0.0
        on_path.add(node)
        stack.append((node, edges(node), [0.0, 0.0]))
        return None

    result = enter(start)
    if result is not None:
        return result
    while True:
        node, out, state = stack[-1]
        index = int(state[0])
        if index < len(out):
            state[0] += 1
            neighbour, weight = out[index]
            value = enter(neighbour) if weight > 0 else 0.0
            if value is not None:
                state[1] += weight * value
            continue
        value = min(1.0, state[1])
        memo[node] = value
        on_path.discard(node)
        stack.pop()
        if not stack:
            return value
        _, parent_out, parent_state = stack[-1]
        parent_state[1] += parent_out[int(parent_state[0]) - 1][1] * value


class Owners:
    """Maps a profiled code location to the repository function it belongs to."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.layout = TestLayout.of(root)
        self.files: dict[str, tuple[str, list[FunctionSpan]] | None] = {}

    def of(self, key: FunctionKey) -> tuple[TargetRef | None, bool]:
        filename, line, name = key
        if name == "<module>":  # import-time code belongs to no function
            return None, False
        spans = self._spans(filename)
        if spans is None:
            return None, False
        relative, functions = spans
        inner = [f for f in functions if f.first_line <= line <= f.end_line]
        if not inner:
            return None, False
        span = max(inner, key=lambda f: f.first_line)
        is_itself = name == span.qualname.rsplit(".", 1)[-1] and line in (
            span.first_line,
            span.def_line,
        )
        return TargetRef(relative, span.qualname), is_itself

    def _spans(self, filename: str) -> tuple[str, list[FunctionSpan]] | None:
        if filename not in self.files:
            self.files[filename] = self._load(filename)
        return self.files[filename]

    def _load(self, filename: str) -> tuple[str, list[FunctionSpan]] | None:
        if not filename.endswith(".py"):
            return None
        real = os.path.realpath(filename)
        if not real.startswith(self.root + os.sep):
            return None
        relative = Path(os.path.relpath(real, self.root)).as_posix()
        if self.layout.is_test(relative) or "site-packages" in relative or relative.startswith("."):
            return None
        try:
            # The workload could have left a FIFO or a device where a source file was.
            source = read_bounded(Path(real), MAX_SOURCE_BYTES).decode("utf-8")
            return relative, list(index_functions(source).values())
        except (UntrustedDataError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None

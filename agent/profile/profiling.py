"""Profile the workload in a sandbox and attribute its time to the repository's functions.

The profile is written by the workload's own processes (``_harness/sitecustomize.py``), next
to code that may be hostile, into a folder that code can change: it is JSON (not pstats'
marshal data), read bounded and validated, and a dump that is not what the profiler writes is
left out with a note. Source files it names are read without following a FIFO or a device.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from agent.domain import FunctionProfile, TargetRef
from agent.errors import UsageError
from agent.project.runner import Project, is_pytest
from agent.project.testlayout import TestLayout
from agent.rank.codeindex import FunctionSpan, index_functions
from agent.verify.untrusted import (
    UntrustedDataError,
    is_real_directory,
    read_bounded,
    read_json,
    scrub,
)
from sandbox import Result, Sandbox

_FunctionKey = tuple[str, int, str]  # pstats: (filename, first line, name)
_CallerFigures = tuple[int, int, float, float]  # calls, primitive calls, own time, cumulative
# Per function: primitive calls, calls, own time, cumulative time, and its callers' figures.
Stats = dict[_FunctionKey, tuple[int, int, float, float, dict[_FunctionKey, _CallerFigures]]]

MAX_DUMP_BYTES = 256 * 1024 * 1024
MAX_DUMPS = 512  # processes profiled in one run; more are left out (with a note)
MAX_SOURCE_BYTES = 16 * 1024 * 1024
PYTEST_TESTS_FAILED = 1  # pytest's exit code when the run completed but some tests failed
_DUMP_NAME = re.compile(r"[0-9]{1,10}\.json")  # <pid>.json, as the profiler names them


@dataclass(frozen=True)
class Profile:
    workload: str
    total_time: float
    functions: dict[TargetRef, FunctionProfile]
    notes: tuple[str, ...] = ()  # dumps left out, and why


class _MalformedDump(ValueError):
    """Not what the profiler writes; the message says how, never what the dump held."""


def profile_workload(project: Project, sandbox: Sandbox) -> Profile:
    """Run the workload under cProfile (in every Python process it starts) and aggregate."""
    argv, description = project.workload_argv(sandbox)
    description = " ".join(scrub(description, 200).split())  # one line, secrets masked
    if not is_real_directory(sandbox.tmp):  # an earlier run there made it a link: not ours
        raise UsageError("the sandbox's temporary directory was replaced by a link")
    out = Path(tempfile.mkdtemp(prefix="evolver-prof-", dir=sandbox.tmp))
    try:
        result = project.run_workload(sandbox, {"EVOLVER_PROFILE_DIR": str(out)})
        if result.timed_out:
            raise UsageError(f"the workload ({description}) timed out")
        notes: list[str] = []
        if not result.ok:
            failure = _failure(result, argv)
            if not _flaky_tests_may_explain(project, argv, result):
                raise UsageError(f"the workload ({description}) {failure}")
            notes.append(f"the workload ({description}) {failure}; tests flaky on HEAD ran in it")
        dumps = _dumps(out, notes)
        if not dumps:
            why = scrub(result.last_line(), 200)
            raise UsageError(f"the workload ({description}) ran no Python code: {why}")
        stats: Stats = {}
        for dump in dumps:
            try:
                _add(stats, _read_dump(dump))
            except (UntrustedDataError, _MalformedDump) as error:
                notes.append(f"ignored the profile dump {dump.name}: {scrub(str(error), 200)}")
        if not stats:
            why = notes[0] if notes else "every dump was empty"
            raise UsageError(f"the workload ({description}) left no readable profile: {why}")
    finally:
        shutil.rmtree(out, ignore_errors=True)  # never follows a link the run left in its place
    functions, total = attribute(stats, sandbox.work)
    return Profile(description, total, functions, tuple(notes))


def _failure(result: Result, argv: list[str]) -> str:
    """How a workload failed, in one line: a profile of a broken run is no evidence of where
    time goes (a script the sandbox cannot see runs nothing; one that exits 3 stopped early)."""
    if result.returncode < 0:
        how = f"was killed by signal {-result.returncode}"
    else:
        how = f"failed with exit code {result.returncode}"
        if argv[0] == "sh" and 128 < result.returncode <= 128 + 64:  # the shell's way
            how += f" (killed by signal {result.returncode - 128})"
    if result.limits_hit:
        how += f" (it hit the sandbox's {' and '.join(result.limits_hit)} limit)"
    last = " ".join(scrub(result.last_line(), 200).split()) or "no output"
    return f"{how}: {last}"


def _flaky_tests_may_explain(project: Project, argv: list[str], result: Result) -> bool:
    """Whether the failure is pytest's "some tests failed" on Evolver's own choice of workload
    (the tests or benchmarks, which passed on HEAD) with tests known to be flaky in it: the
    baseline keeps such runs, and so does the profile (with a note)."""
    return (
        project.workload is None
        and bool(project.flaky_tests)
        and is_pytest(argv)
        and result.returncode == PYTEST_TESTS_FAILED
    )


def _dumps(out: Path, notes: list[str]) -> list[Path]:
    """The profile dumps in ``out``, if it is still the folder we made."""
    if not is_real_directory(out):
        notes.append("the profile folder was replaced while the workload ran")
        return []
    names = sorted(entry.name for entry in os.scandir(out))
    dumps = [out / name for name in names if _DUMP_NAME.fullmatch(name)]
    if len(dumps) > MAX_DUMPS:
        notes.append(f"read the profiles of {MAX_DUMPS} processes of {len(dumps)}")
    return dumps[:MAX_DUMPS]


def _read_dump(path: Path) -> Stats:
    """One process's profile, validated (see ``sitecustomize``: rows of pstats' figures)."""
    data = read_json(path, MAX_DUMP_BYTES)
    if type(data) is not dict or set(data) != {"functions"} or type(data["functions"]) is not list:
        raise _MalformedDump('not {"functions": [...]}')
    stats: Stats = {}
    for row in data["functions"]:
        if type(row) is not list or len(row) != 8 or type(row[7]) is not list:
            raise _MalformedDump("a function is not [file, line, name, cc, nc, tt, ct, callers]")
        callers: dict[_FunctionKey, _CallerFigures] = {}
        for caller in row[7]:
            if type(caller) is not list or len(caller) != 7:
                raise _MalformedDump("a caller is not [file, line, name, nc, cc, tt, ct]")
            nc, cc, tt, ct = _figures(caller[3:])
            callers[_key(caller[:3])] = (nc, cc, tt, ct)
        cc, nc, tt, ct = _figures(row[3:7])
        stats[_key(row[:3])] = (cc, nc, tt, ct, callers)
    return stats


def _key(parts: list[Any]) -> _FunctionKey:
    filename, line, name = parts
    if type(filename) is not str or type(line) is not int or type(name) is not str:
        raise _MalformedDump("a function is not named by (file, line, name)")
    if "\0" in filename or len(filename) > 4096 or len(name) > 4096:
        raise _MalformedDump("a file or function name is not one")
    return filename, line, name


def _figures(parts: list[Any]) -> tuple[int, int, float, float]:
    """Two counts and two times, as pstats keeps them."""
    first, second, own, cumulative = parts
    if any(type(count) is not int or count < 0 for count in (first, second)):
        raise _MalformedDump("a call count is not a count")
    if any(
        type(time) not in (int, float) or not math.isfinite(time) or time < 0
        for time in (own, cumulative)
    ):
        raise _MalformedDump("a time is not a finite number of seconds")
    if own - cumulative > _ROUNDING * max(1.0, cumulative):  # cProfile's own is within its cum
        raise _MalformedDump("an own time exceeds its cumulative time")
    return first, second, float(own), float(cumulative)


def _add(into: Stats, stats: Stats) -> None:
    """Merge one process's profile into ``into``, as ``pstats.Stats.add`` does."""
    for key, (cc, nc, tt, ct, callers) in stats.items():
        if key not in into:
            into[key] = (cc, nc, tt, ct, dict(callers))
            continue
        old_cc, old_nc, old_tt, old_ct, old_callers = into[key]
        for caller, figures in callers.items():
            before = old_callers.get(caller)
            old_callers[caller] = (
                figures
                if before is None
                else (
                    before[0] + figures[0],
                    before[1] + figures[1],
                    before[2] + figures[2],
                    before[3] + figures[3],
                )
            )
        into[key] = (old_cc + cc, old_nc + nc, old_tt + tt, old_ct + ct, old_callers)


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
    graph = _CallGraph(raw, _Owners(root))
    code: dict[TargetRef, list[_FunctionKey]] = defaultdict(list)  # itself, then nested
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
_ROUNDING = 1e-9


def _within_cumulative(ref: TargetRef, own: float, cum: float) -> float:
    """``own``, which cannot exceed ``cum``: it is time spent beneath the function. Only
    rounding may make it look larger; anything more is a bug in the attribution."""
    if own <= cum:
        return own
    if own - cum <= _ROUNDING * max(1.0, cum):
        return cum
    raise AssertionError(f"{ref}: own time {own!r}s exceeds cumulative time {cum!r}s")


class _CallGraph:
    """pstats' caller graph, with the repository's code marked in it.

    pstats keeps, per function, each caller's part of its calls and times: ``ct(C<-P)`` is
    the cumulative time of ``C`` when ``P`` called it. That is all a profile keeps of the call
    tree, so what ran beneath what is read off it in proportion, or bounded by it.
    """

    def __init__(self, raw: Stats, owners: _Owners) -> None:
        self.raw = raw
        self.owners = owners
        self.places: dict[_FunctionKey, tuple[TargetRef | None, bool]] = {}
        self.callees: dict[_FunctionKey, dict[_FunctionKey, float]] = defaultdict(dict)
        for key, entry in raw.items():
            for caller, figures in entry[4].items():
                self.callees[caller][key] = figures[3]
        self.repository_shares: dict[_FunctionKey, float] = {}
        self.room_beneath: dict[TargetRef, dict[tuple[_FunctionKey, int], float]] = defaultdict(
            dict
        )
        self.caller_edges: dict[_FunctionKey, list[tuple[_FunctionKey, float]]] = {}

    def place(self, key: _FunctionKey) -> tuple[TargetRef | None, bool]:
        """The repository function ``key`` belongs to (None: not the repository's code), and
        whether it is that function itself (rather than a comprehension or lambda in it)."""
        if key not in self.places:
            self.places[key] = self.owners.of(key)
        return self.places[key]

    def cumulative(self, key: _FunctionKey) -> float:
        entry = self.raw.get(key)
        return entry[3] if entry is not None else 0.0

    def own_time(self, ref: TargetRef, keys: list[_FunctionKey], cum: float) -> float:
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

    def _other_code(
        self, callee: _FunctionKey, cumulative: float, mine: set[_FunctionKey]
    ) -> float:
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

    def _share_beneath(self, key: _FunctionKey, ref: TargetRef) -> float:
        """The share of a comprehension's or lambda's time that can have run beneath ``ref``."""
        cumulative = self.cumulative(key)
        return min(1.0, self.beneath(key, ref) / cumulative) if cumulative > 0 else 0.0

    def _repository_share(self, key: _FunctionKey) -> float:
        """The share of library function ``key``'s time spent running the repository's code:
        each callee's share of its time, whole for repository code, else in proportion to
        that callee's own repository share."""

        def fixed(node: _FunctionKey) -> float | None:
            return 1.0 if self.place(node)[0] is not None else None

        def callees(node: _FunctionKey) -> list[tuple[_FunctionKey, float]]:
            total = self.cumulative(node)
            if total <= 0:
                return []
            return [(c, ct / total) for c, ct in self.callees[node].items()]

        return _propagate(key, fixed, callees, self.repository_shares)

    def beneath(self, key: _FunctionKey, ref: TargetRef) -> float:
        """At most how much of ``key``'s time ran beneath a call of ``ref``: what fits through
        its callers, and theirs, to a call of ``ref`` at most ``_MOST_HOPS`` calls up. A path
        that never reaches ``ref`` lets nothing through: a generator ``ref`` returned runs in
        its caller, a lambda it stored in whoever calls it later."""
        memo = self.room_beneath[ref]

        def room(node: _FunctionKey, hops: int) -> float:
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

    def _callers(self, key: _FunctionKey) -> list[tuple[_FunctionKey, float]]:
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


class _Owners:
    """Maps a profiled code location to the repository function it belongs to."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self.layout = TestLayout.of(root)
        self.files: dict[str, tuple[str, list[FunctionSpan]] | None] = {}

    def of(self, key: _FunctionKey) -> tuple[TargetRef | None, bool]:
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

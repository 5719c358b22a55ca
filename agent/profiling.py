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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.codeindex import FunctionSpan, index_functions, is_test_path
from agent.domain import FunctionProfile, TargetRef
from agent.errors import UsageError
from agent.project import Project
from agent.verify.untrusted import (
    UntrustedDataError,
    is_real_directory,
    read_bounded,
    read_json,
    scrub,
)
from sandbox import Sandbox

_FunctionKey = tuple[str, int, str]  # pstats: (filename, first line, name)
_CallerFigures = tuple[int, int, float, float]  # calls, primitive calls, own time, cumulative
# Per function: primitive calls, calls, own time, cumulative time, and its callers' figures.
Stats = dict[_FunctionKey, tuple[int, int, float, float, dict[_FunctionKey, _CallerFigures]]]

MAX_DUMP_BYTES = 256 * 1024 * 1024
MAX_DUMPS = 512  # processes profiled in one run; more are left out (with a note)
MAX_SOURCE_BYTES = 16 * 1024 * 1024
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
    _, description = project.workload_argv(sandbox)
    if not is_real_directory(sandbox.tmp):  # an earlier run there made it a link: not ours
        raise UsageError("the sandbox's temporary directory was replaced by a link")
    out = Path(tempfile.mkdtemp(prefix="evolver-prof-", dir=sandbox.tmp))
    try:
        result = project.run_workload(sandbox, {"EVOLVER_PROFILE_DIR": str(out)})
        if result.timed_out:
            raise UsageError(f"the workload ({description}) timed out")
        notes: list[str] = []
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

    Comprehensions and lambdas count towards the function that contains them; tests,
    benchmarks, the standard library and installed packages are not the repository's code.
    """
    total = sum(entry[2] for entry in raw.values()) or 1e-12
    owner = _Owners(root)
    own: dict[TargetRef, float] = defaultdict(float)
    cum: dict[TargetRef, float] = {}
    calls: dict[TargetRef, int] = {}
    for key, (_, ncalls, own_time, cum_time, callers) in raw.items():
        ref, is_itself = owner.of(key)
        if ref is not None:
            own[ref] += own_time
            if is_itself:
                cum[ref], calls[ref] = cum_time, ncalls
            continue
        for caller, caller_figures in callers.items():  # library time spent on our behalf
            caller_ref, _ = owner.of(caller)
            if caller_ref is not None:
                own[caller_ref] += caller_figures[3]
    profiles = {
        ref: FunctionProfile(
            own_time=own[ref], cum_time=cum[ref], calls=calls[ref], share=own[ref] / total
        )
        for ref in cum
    }
    return profiles, total


class _Owners:
    """Maps a profiled code location to the repository function it belongs to."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
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
        if is_test_path(relative) or "site-packages" in relative or relative.startswith("."):
            return None
        try:
            # The workload could have left a FIFO or a device where a source file was.
            source = read_bounded(Path(real), MAX_SOURCE_BYTES).decode("utf-8")
            return relative, list(index_functions(source).values())
        except (UntrustedDataError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None

"""Where the workload's memory goes, per repository function: a pass of its own under
``tracemalloc`` (``_harness/sitecustomize.py``, ``EVOLVER_MEMORY_DIR``), so that tracing does not
distort the time profile.

As with the time profile, the dumps are written next to code that may be hostile: JSON, read
bounded and validated, and a dump that is not what the harness writes is left out with a note.
Figures of a function's nested code (comprehensions, generator expressions) are its own: a
call's peak already holds them, and what they left allocated counts where it was allocated.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import FunctionProfile, MemoryProfile, TargetRef
from agent.errors import UsageError
from agent.profile.attribution import Owners
from agent.profile.profiling import Profile
from agent.project.runner import Project
from agent.verify.untrusted import (
    UntrustedDataError,
    is_real_directory,
    process_dumps,
    read_json,
    scrub,
)
from sandbox import Sandbox

MAX_DUMP_BYTES = 64 * 1024 * 1024
_MAX_BYTES = 1 << 50


@dataclass(frozen=True)
class MemoryFigures:
    """One process's dump: per code object (file, first line, name) its calls, peak and
    allocated bytes; per source line, the bytes still allocated there when it ended."""

    functions: dict[tuple[str, int, str], tuple[int, int, int]]
    alive: dict[tuple[str, int], int]


class _MalformedDump(ValueError):
    """Not what the harness writes; the message says how, never what the dump held."""


def profile_memory(
    project: Project, sandbox: Sandbox
) -> tuple[dict[TargetRef, MemoryProfile], list[str]]:
    """Run the workload with its memory traced; per repository function, its memory profile,
    and notes on dumps left out."""
    if not is_real_directory(sandbox.tmp):
        raise UsageError("the sandbox's temporary directory was replaced by a link")
    out = Path(tempfile.mkdtemp(prefix="evolver-mem-", dir=sandbox.tmp))
    notes: list[str] = []
    try:
        result = project.run_workload(sandbox, {"EVOLVER_MEMORY_DIR": str(out)})
        if result.timed_out:
            raise UsageError("the workload timed out while its memory was traced")
        if not result.ok:
            notes.append(
                f"the workload failed while its memory was traced: {scrub(result.last_line(), 200)}"
            )
        dumps = process_dumps(out)
        figures = []
        for dump in dumps.files if dumps is not None else []:
            try:
                figures.append(_read_dump(dump))
            except (UntrustedDataError, _MalformedDump) as error:
                notes.append(f"ignored the memory dump {dump.name}: {scrub(str(error), 200)}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return attribute_memory(figures, sandbox.work), notes


def attribute_memory(dumps: list[MemoryFigures], root: Path) -> dict[TargetRef, MemoryProfile]:
    """The dumps' figures per repository function: calls and allocated bytes summed, the largest
    peak, and the bytes still allocated at the end by lines of its code."""
    owners = Owners(root)
    calls: dict[TargetRef, int] = defaultdict(int)
    peak: dict[TargetRef, int] = defaultdict(int)
    allocated: dict[TargetRef, int] = defaultdict(int)
    alive: dict[TargetRef, int] = defaultdict(int)
    for dump in dumps:
        for key, (count, most, total) in dump.functions.items():
            ref, is_itself = owners.of(key)
            if ref is not None and is_itself:
                calls[ref] += count
                peak[ref] = max(peak[ref], most)
                allocated[ref] += total
        for (filename, line), size in dump.alive.items():
            ref, _ = owners.of((filename, line, ""))
            if ref is not None:
                alive[ref] += size
    return {
        ref: MemoryProfile(calls[ref], peak[ref], allocated[ref], alive[ref])
        for ref in calls.keys() | alive.keys()
    }


def _read_dump(path: Path) -> MemoryFigures:
    data = read_json(path, MAX_DUMP_BYTES)
    if type(data) is not dict or set(data) != {"functions", "alive"}:
        raise _MalformedDump('not {"functions": [...], "alive": [...]}')
    functions: dict[tuple[str, int, str], tuple[int, int, int]] = {}
    for row in _rows(data["functions"], 6):
        filename, line, name, count, most, total = row
        if not (_text(filename) and _count(line) and _text(name) and _count(count)):
            raise _MalformedDump("a function is not (file, line, name, calls, ...)")
        if not (_count(most) and _count(total)):
            raise _MalformedDump("a peak or a allocated size is not a number of bytes")
        functions[(filename, line, name)] = (count, most, total)
    alive: dict[tuple[str, int], int] = {}
    for filename, line, size in _rows(data["alive"], 3):
        if not (_text(filename) and _count(line) and _count(size)):
            raise _MalformedDump("an allocation is not (file, line, bytes)")
        alive[(filename, line)] = alive.get((filename, line), 0) + size
    return MemoryFigures(functions, alive)


def _rows(value: Any, width: int) -> list[list[Any]]:
    if type(value) is not list or any(type(row) is not list or len(row) != width for row in value):
        raise _MalformedDump(f"not a list of rows of {width}")
    return value


def _text(value: Any) -> bool:
    return type(value) is str and "\0" not in value and len(value) <= 4096


def _count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= _MAX_BYTES


def with_memory(profile: Profile, memory: dict[TargetRef, MemoryProfile]) -> Profile:
    """``profile`` with each function's memory figures (a function only the memory pass saw
    gets no time of its own)."""
    functions = {
        ref: dataclasses.replace(
            profile.functions.get(ref, FunctionProfile(0.0, 0.0, figures.calls, 0.0)),
            memory=figures,
        )
        for ref, figures in memory.items()
    }
    return dataclasses.replace(profile, functions={**profile.functions, **functions})

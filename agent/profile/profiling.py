"""Profile the workload in a sandbox; its time is attributed to functions by ``attribution``.

The profile is written by the workload's own processes (``_harness/sitecustomize.py``), next
to code that may be hostile, into a folder that code can change: it is JSON (not pstats'
marshal data), read bounded and validated, and a dump that is not what the profiler writes is
left out with a note. Source files it names are read without following a FIFO or a device.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import FunctionProfile, TargetRef
from agent.errors import UsageError
from agent.profile.attribution import ROUNDING, CallerFigures, FunctionKey, Stats, attribute
from agent.project.runner import Project, is_pytest
from agent.verify.untrusted import (
    UntrustedDataError,
    is_real_directory,
    process_dumps,
    read_json,
    scrub,
)
from sandbox import Result, Sandbox

MAX_DUMP_BYTES = 256 * 1024 * 1024
PYTEST_TESTS_FAILED = 1  # pytest's exit code when the run completed but some tests failed


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
    dumps = process_dumps(out)
    if dumps is None:
        notes.append("the profile folder was replaced while the workload ran")
        return []
    if dumps.left_out:
        notes.append(f"read the profiles of {len(dumps.files)} processes of {dumps.found}")
    return dumps.files


def _read_dump(path: Path) -> Stats:
    """One process's profile, validated (see ``sitecustomize``: rows of pstats' figures)."""
    data = read_json(path, MAX_DUMP_BYTES)
    if type(data) is not dict or set(data) != {"functions"} or type(data["functions"]) is not list:
        raise _MalformedDump('not {"functions": [...]}')
    stats: Stats = {}
    for row in data["functions"]:
        if type(row) is not list or len(row) != 8 or type(row[7]) is not list:
            raise _MalformedDump("a function is not [file, line, name, cc, nc, tt, ct, callers]")
        callers: dict[FunctionKey, CallerFigures] = {}
        for caller in row[7]:
            if type(caller) is not list or len(caller) != 7:
                raise _MalformedDump("a caller is not [file, line, name, nc, cc, tt, ct]")
            nc, cc, tt, ct = _figures(caller[3:])
            callers[_key(caller[:3])] = (nc, cc, tt, ct)
        cc, nc, tt, ct = _figures(row[3:7])
        stats[_key(row[:3])] = (cc, nc, tt, ct, callers)
    return stats


def _key(parts: list[Any]) -> FunctionKey:
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
    if own - cumulative > ROUNDING * max(1.0, cumulative):  # cProfile's own is within its cum
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

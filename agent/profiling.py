"""Profile the workload in a sandbox and attribute its time to the repository's functions."""

from __future__ import annotations

import os
import pstats
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from agent.codeindex import FunctionSpan, index_functions, is_test_path
from agent.domain import FunctionProfile, TargetRef
from agent.errors import UsageError
from agent.project import Project
from sandbox import Sandbox

_FunctionKey = tuple[str, int, str]  # pstats: (filename, first line, name)


@dataclass(frozen=True)
class Profile:
    workload: str
    total_time: float
    functions: dict[TargetRef, FunctionProfile]


def profile_workload(project: Project, sandbox: Sandbox) -> Profile:
    """Run the workload under cProfile (in every Python process it starts) and aggregate."""
    _, description = project.workload_argv(sandbox)
    with tempfile.TemporaryDirectory(prefix="evolver-prof-", dir=sandbox.tmp) as out:
        result = project.run_workload(sandbox, {"EVOLVER_PROFILE_DIR": out})
        dumps = sorted(Path(out).glob("*.prof"))
        if result.timed_out:
            raise UsageError(f"the workload ({description}) timed out")
        if not dumps:
            why = result.last_line()
            raise UsageError(f"the workload ({description}) ran no Python code: {why}")
        stats = pstats.Stats(*map(str, dumps))
    functions, total = attribute(stats, sandbox.work)
    return Profile(description, total, functions)


def attribute(stats: pstats.Stats, root: Path) -> tuple[dict[TargetRef, FunctionProfile], float]:
    """Per repository function: own time (with the library calls it makes), cumulative, calls.

    Comprehensions and lambdas count towards the function that contains them; tests,
    benchmarks, the standard library and installed packages are not the repository's code.
    """
    raw = stats.stats  # type: ignore[attr-defined]
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
            source = Path(real).read_text(encoding="utf-8")
            return relative, list(index_functions(source).values())
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None

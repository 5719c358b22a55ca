"""Join the profile with radon's metrics, and choose what to optimize."""

from __future__ import annotations

from pathlib import Path

from agent.domain import FunctionProfile, Target, TargetRef
from agent.errors import UsageError
from agent.project.testlayout import TestLayout
from agent.rank.codeindex import index_functions
from agent.rank.metrics import measure

MIN_SHARE = 0.001  # below a tenth of a percent of the workload, a speedup cannot matter


def make_target(
    root: Path,
    ref: TargetRef,
    profile: FunctionProfile | None,
    layout: TestLayout | None = None,
) -> Target:
    """The target as it is now in ``root``; a UsageError when it cannot be one.

    ``layout`` is the repository's tests as pytest collects them (read from ``root`` when not
    given): tests, benchmarks and conftest files judge candidates and are never one."""
    path = root / ref.path
    if (layout or TestLayout.of(root)).is_test(ref.path):
        raise UsageError(f"target {ref}: tests, benchmarks and conftest are never targets")
    if not path.is_file():
        raise UsageError(f"unknown target {ref}: no file {ref.path} at HEAD")
    try:
        functions = index_functions(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        raise UsageError(
            f"target file {ref.path} has a syntax error at line {error.lineno}"
        ) from None
    except UnicodeDecodeError:
        raise UsageError(f"target file {ref.path} is not UTF-8 text") from None
    span = functions.get(ref.qualname)
    if span is None or "<locals>" in ref.qualname:
        raise UsageError(f"unknown target {ref}: no function {ref.qualname} in {ref.path}")
    return Target(ref, span.source, span.def_line, measure(span.source), profile)


MIN_PEAK = 64 * 1024  # bytes: a call that never holds more has nothing worth saving


def rank(
    root: Path, profiles: dict[TargetRef, FunctionProfile], limit: int, objective: str = "time"
) -> list[Target]:
    """The hottest functions first (time share; complexity breaks ties), at most ``limit``;
    for ``objective`` memory, the largest peak memory of one call first.

    Nested functions are skipped: only a module-level function or a method can be replaced;
    so are tests (the profile leaves them out already, but it may come from elsewhere).
    """
    layout = TestLayout.of(root)
    targets = [
        make_target(root, ref, profile, layout)
        for ref, profile in profiles.items()
        if _worth(profile, objective)
        and "<locals>" not in ref.qualname
        and not layout.is_test(ref.path)
    ]
    targets.sort(key=lambda t: (*_heat(t.profile, objective), -t.metrics.complexity, str(t.ref)))
    return targets[:limit]


def _worth(profile: FunctionProfile, objective: str) -> bool:
    if objective == "memory":
        return profile.memory is not None and profile.memory.peak >= MIN_PEAK
    if objective == "both":
        return profile.share >= MIN_SHARE or _worth(profile, "memory")
    return profile.share >= MIN_SHARE


def _heat(profile: FunctionProfile | None, objective: str) -> tuple[float, ...]:
    """What sorts the hottest first (negated): the time share, or the peak; for both, the
    larger of the share and the peak's rank among 64 MiB (so either can put one first)."""
    if profile is None:
        return (0.0,)
    share = round(profile.share, 3)
    peak = profile.memory.peak if profile.memory is not None else 0
    if objective == "memory":
        return (-peak, -share)
    if objective == "both":
        return (-max(share, min(1.0, peak / (64 * 1024 * 1024))), -share)
    return (-share,)

"""The metrics `evolver watch` keeps an eye on, and how healthy they are.

A measurement runs on an export of one commit, in sandboxes: the repo's pytest-benchmark
benchmarks (each benchmark's median, ``benchmark:<name>``, in seconds) and/or a command that
prints one JSON object of numbers (latency, throughput, memory, error rate…). Each is run
``repeats`` times and the median of each metric counts, so one slow run is not a regression.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from statistics import median

import git

from agent.config import Threshold, WatchConfig
from agent.project.runner import Project, find_benchmarks
from agent.project.workspace import Workspace
from agent.record.confirm import benchmark_medians, run_benchmarks
from sandbox import Limits, Result


class MeasureFailed(Exception):
    """The metrics could not be taken; the message says why."""


@dataclass(frozen=True)
class Health:
    """``score`` is 100 when every threshold is kept, less the further metrics are off."""

    score: float
    breaches: tuple[str, ...] = ()
    breached: tuple[str, ...] = ()  # the metrics of the breaches


@dataclass(frozen=True)
class Measurement:
    commit: str
    metrics: dict[str, float]
    notes: tuple[str, ...] = field(default_factory=tuple)


def measure(
    repo: git.Repo, commit: str, settings: WatchConfig, project: Project, limits: Limits
) -> Measurement:
    metrics: dict[str, list[float]] = {}
    notes: list[str] = []
    with Workspace.for_commit(repo, commit, limits, project.readable) as workspace:
        wanted = settings.benchmarks and project.benchmark_plugin
        benchmarks = find_benchmarks(workspace.state) if wanted else []
        if settings.benchmarks and not benchmarks:
            notes.append("no pytest-benchmark benchmarks to measure")
        for number in range(settings.repeats):
            with workspace.sandbox(f"measure-{number}") as sandbox:
                if benchmarks:
                    out = sandbox.tmp / "benchmarks.json"
                    ran = run_benchmarks(project, sandbox, benchmarks, out)
                    if not ran.ok:
                        raise MeasureFailed(f"the benchmarks failed: {_why(ran)}")
                    for name, seconds in benchmark_medians(out).items():
                        metrics.setdefault(f"benchmark:{name}", []).append(seconds)
                if settings.metrics_command:
                    ran = sandbox.run(
                        ["sh", "-c", settings.metrics_command],
                        timeout=project.test_timeout,
                        env=project.env(sandbox),
                    )
                    if not ran.ok:
                        raise MeasureFailed(f"the metrics command failed: {_why(ran)}")
                    for name, value in parse_metrics(ran.stdout).items():
                        metrics.setdefault(name, []).append(value)
    medians = {name: median(values) for name, values in metrics.items()}
    return Measurement(commit, medians, tuple(notes))


def parse_metrics(stdout: str) -> dict[str, float]:
    """The last line of ``stdout`` that is a JSON object; its numeric values."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return {
                str(k): float(v)
                for k, v in data.items()
                if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            }
    raise MeasureFailed("the metrics command printed no JSON object of numbers")


def health(metrics: dict[str, float], thresholds: dict[str, Threshold]) -> Health:
    """Each thresholded metric scores min(1, bound/value) (or value/bound for a minimum);
    the health is their mean, in percent. A metric that is missing is a breach."""
    scores, breaches, breached = [], [], []
    for name, bound in sorted(thresholds.items()):
        value = metrics.get(name)
        if value is None:
            scores.append(0.0)
            breaches.append(f"{name}: not measured")
            breached.append(name)
            continue
        score = 1.0
        if bound.max is not None and value > bound.max:
            score = min(score, bound.max / value if value else 0.0)
            breaches.append(f"{name} {value:.4g} > {bound.max:.4g}")
        if bound.min is not None and value < bound.min:
            score = min(score, value / bound.min if bound.min else 0.0)
            breaches.append(f"{name} {value:.4g} < {bound.min:.4g}")
        if score < 1.0:
            breached.append(name)
        scores.append(max(score, 0.0))
    total = 100.0 * sum(scores) / len(scores) if scores else 100.0
    return Health(total, tuple(breaches), tuple(breached))


def worse(
    now: dict[str, float],
    before: dict[str, float],
    tolerance: float,
    higher_is_better: tuple[str, ...],
) -> list[str]:
    """The metrics worse now than ``before`` by more than ``tolerance`` (a fraction), each as
    ``name old → new (+change)``."""
    found = []
    for name in worse_metrics(now, before, tolerance, higher_is_better):
        old, new = before[name], now[name]
        change = (new - old) / old if old else math.inf
        found.append(f"{name} {old:.4g} → {new:.4g} ({change:+.0%})")
    return found


def worse_metrics(
    now: dict[str, float],
    before: dict[str, float],
    tolerance: float,
    higher_is_better: tuple[str, ...],
) -> list[str]:
    """The names of the metrics :func:`worse` finds."""
    found = []
    for name in sorted(now.keys() & before.keys()):
        old, new = before[name], now[name]
        if name in higher_is_better:
            bad = new < old * (1 - tolerance)
        else:
            bad = new > old * (1 + tolerance)
        if bad:
            found.append(name)
    return found


def objective_for(slipped: set[str], memory_metrics: tuple[str, ...]) -> str:
    """What an evolution should improve when ``slipped`` metrics slipped: memory when only
    memory metrics did, both when memory and others did, else time."""
    memory = slipped & set(memory_metrics)
    if not memory:
        return "time"
    return "memory" if memory == slipped else "both"


def _why(ran: Result) -> str:
    if ran.timed_out:
        return "timed out"
    code = ran.returncode
    said = ran.last_line() or (f"killed by signal {-code}" if code < 0 else f"exit code {code}")
    # A command the out-of-memory killer stopped has had no chance to say so.
    if ran.limits_hit:
        said += f" (it hit the sandbox's {' and '.join(ran.limits_hit)} limit)"
    return said

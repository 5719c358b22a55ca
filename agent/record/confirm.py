"""Confirm the whole result: the repo's own workload on the base commit and on the result.

Per-target speedups are measured on recorded calls to one function; this asks the question a
user asks: does the repository's own workload run faster on the result branch? The workload
(the benchmarks, the ``--workload`` command, or the tests) runs unprofiled in two sandboxes,
the base commit's tree and the result's, alternately (A B, B A, A B, ...), so that a machine
getting busier or quieter touches both. With pytest-benchmark benchmarks, the benchmarks run
enabled and their own per-benchmark medians are compared, which is far less noisy than the
wall time of a pytest session; otherwise the wall time of each run is.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import git

from agent.domain import NO_CHANGE, Confirmation, RunReport
from agent.project.runner import Project, deselect_args, find_benchmarks, is_pytest
from agent.project.workspace import Workspace
from agent.record import gitops
from sandbox import Result, Sandbox

RUNS = 3  # per side
CHANGE_RUNS = 3  # the fewest runs a side that can show a change (see ``change``)
BUDGET_SECONDS = 240.0  # no new round starts that would end later than this
BENCHMARK_MAX_TIME = 0.25  # seconds per benchmark (pytest-benchmark's default is 1.0)


class NotConfirmed(Exception):
    """The workload could not be compared; the message says why."""


def confirm(
    project: Project,
    base: Sandbox,
    result: Sandbox,
    step: Callable[[str], None],
    runs: int = RUNS,
    budget: float = BUDGET_SECONDS,
) -> Confirmation:
    """Run the workload ``runs`` times on each side, alternating, and compare the medians.

    Stops after fewer rounds (at least one) when another would overrun ``budget`` seconds.
    """
    wanted = project.workload is None and project.benchmark_plugin
    benchmarks = find_benchmarks(base.work) if wanted else []
    what = project.workload_argv(base)[1]
    walls: tuple[list[float], list[float]] = ([], [])
    medians: tuple[dict[str, list[float]], dict[str, list[float]]] = ({}, {})
    started = time.monotonic()
    done = 0
    for round_ in range(runs):
        if done and (time.monotonic() - started) * (done + 1) / done > budget:
            break
        for side in (0, 1) if round_ % 2 == 0 else (1, 0):
            name = ("base", "result")[side]
            step(f"confirming the result: {what}, {name} run {round_ + 1}/{runs}")
            sandbox = (base, result)[side]
            out = sandbox.tmp / f"evolver-confirm-{round_}.json"
            ran = _run(project, sandbox, benchmarks, out)
            if not ran.ok:
                failed = "timed out" if ran.timed_out else f"failed: {ran.last_line()}"
                raise NotConfirmed(f"the workload ({what}) {failed} on the {name}")
            walls[side].append(ran.duration)
            if benchmarks:
                for key, value in benchmark_medians(out).items():
                    medians[side].setdefault(key, []).append(value)
        done += 1
    wall = (median(walls[0]), median(walls[1]))
    # Benchmarks every run of both sides timed: each run's cost is their geometric mean.
    keys = sorted(
        key
        for key in medians[0].keys() & medians[1].keys()
        if all(len(side[key]) == done and min(side[key]) > 0 for side in medians)
    )
    if keys:
        ratios = {key: median(medians[0][key]) / median(medians[1][key]) for key in keys}
        speedup = _geometric_mean(list(ratios.values()))
        base_costs, result_costs = (
            [_geometric_mean([side[key][run] for key in keys]) for run in range(done)]
            for side in medians
        )
        verdict = change(base_costs, result_costs, speedup)
        return Confirmation(what, "benchmarks", done, *wall, speedup, verdict, ratios)
    speedup = wall[0] / wall[1]
    return Confirmation(what, "wall time", done, *wall, speedup, change(*walls, speedup))


def change(base: list[float], result: list[float], speedup: float) -> str:
    """What the runs show: ``"about the same"`` when the medians are within ``NO_CHANGE``;
    ``"faster"`` or ``"slower"`` only when every run of one side cost more than every run of
    the other, with at least ``CHANGE_RUNS`` a side (at 3, chance alone orders them so one way
    one time in 20); else ``"too noisy to tell"``, which is not slower."""
    if abs(math.log(speedup)) <= math.log1p(NO_CHANGE):
        return "about the same"
    if min(len(base), len(result)) >= CHANGE_RUNS:
        if min(base) > max(result) and speedup > 1:
            return "faster"
        if max(base) < min(result) and speedup < 1:
            return "slower"
    return "too noisy to tell"


def _geometric_mean(values: list[float]) -> float:
    return math.exp(sum(map(math.log, values)) / len(values))


def _run(project: Project, sandbox: Sandbox, benchmarks: list[str], out: Path) -> Result:
    if benchmarks:
        return run_benchmarks(project, sandbox, benchmarks, out)
    argv, _ = project.workload_argv(sandbox)
    if project.workload is None and is_pytest(argv):  # the test suite: not the flaky ones
        argv = [*argv, *deselect_args(project.flaky_tests)]
    timeout = max(project.test_timeout, BUDGET_SECONDS / 2)
    return sandbox.run(argv, timeout=timeout, env=project.env(sandbox))


def run_benchmarks(project: Project, sandbox: Sandbox, benchmarks: list[str], out: Path) -> Result:
    """The benchmark files enabled (whatever the project's addopts say), their JSON in ``out``."""
    argv = [
        *(a for a in project.pytest_argv if a != "--benchmark-disable"),
        "--benchmark-enable",  # over a --benchmark-disable in the project's own addopts
        "--benchmark-only",
        f"--benchmark-max-time={BENCHMARK_MAX_TIME}",
        f"--benchmark-json={out}",
        *benchmarks,
    ]
    timeout = max(project.test_timeout, BUDGET_SECONDS / 2)
    return sandbox.run(argv, timeout=timeout, env=project.env(sandbox))


def benchmark_medians(path: Path) -> dict[str, float]:
    """pytest-benchmark's median seconds per benchmark, by its full name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {b["fullname"]: float(b["stats"]["median"]) for b in data["benchmarks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def confirm_result(
    repo: git.Repo,
    base: str,
    result: str,
    project: Project,
    workspace: Workspace,
    step: Callable[[str], None],
    report: RunReport,
) -> Confirmation | None:
    """The repo's own workload on the base commit against the result (``Workspace.state``,
    committed as ``result``).

    The base side is a copy of the state with the files the result changed put back as they
    were at the base commit: the state is the base commit plus those changes, nothing else.
    """
    changed = repo.git.diff("--name-only", base, result).splitlines()
    with workspace.sandbox("confirm-base") as before, workspace.sandbox("confirm-result") as after:
        for path in changed:
            text = gitops.read_file(repo, base, path)
            if text is None:
                (before.work / path).unlink(missing_ok=True)
            else:
                before.write_file(path, text)
        try:
            return confirm(project, before, after, step)
        except NotConfirmed as error:
            report.notes.append(f"the whole result was not confirmed: {error}")
            return None

"""Run the agent on one task and score what it committed, by the harness's own measures.

The agent works on a fresh git copy of the task's ``repo/`` (the hidden tests are not in it).
Whatever it commits is then judged without trusting its report: the hidden tests run on the
result branch, and the benchmark's call is re-timed on the original, on the result and on the
task's reference, interleaved in the same run (``evals/retime.py``), so that the result's
speedup and the reference's compare like with like. A task of kind ``memory`` runs the agent
with ``--objective memory``, and the peak memory of the benchmark's call on the result and on
the reference is also measured against the original's (``evals/peaks.py``): its score. When
nothing is judged, the original and the reference are still measured that way; the
``task.toml`` figures are informational, and used only when that fails (``reference_timing``
says which).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent import loop
from agent.config import RunConfig
from agent.domain import MemoryUse, RunReport, TargetRef
from agent.errors import UsageError
from agent.project.runner import Project
from agent.providers import make_provider
from agent.providers.base import Provider
from agent.providers.usage import Ledger
from evals.corpus import MEMORY, Task
from evals.oracle import OracleProvider
from evals.peaks import PeakError, peak_ratios
from evals.retime import CALLS, ROUNDS, RetimeError, Samples, retime_sides, speedup
from sandbox import Sandbox

BRANCH = "evolver/eval"
MODEL_PROVIDERS = ("openai", "anthropic", "local")  # those whose replies are recorded
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "evolver-eval",
    "GIT_AUTHOR_EMAIL": "eval@evolver.invalid",
    "GIT_COMMITTER_NAME": "evolver-eval",
    "GIT_COMMITTER_EMAIL": "eval@evolver.invalid",
}


@dataclass(frozen=True)
class EvalSettings:
    """How to run the agent on every task; plain data, so it crosses process boundaries."""

    provider: str
    options: dict[str, Any] = field(default_factory=dict)  # RunConfig fields (model, rounds…)
    replies_dir: Path | None = None  # replay: <dir>/<task>.jsonl
    record_dir: Path | None = None  # model runs record their replies to <dir>/<task>.jsonl
    retime_rounds: int = ROUNDS  # processes per side, each timing ``retime_calls`` calls
    retime_calls: int = CALLS

    def fingerprint(self) -> dict[str, Any]:
        """What makes two runs comparable task by task (for resuming)."""
        replies = None if self.replies_dir is None else str(self.replies_dir)
        return {"provider": self.provider, "options": self.options, "replies": replies}


def run_task(task: Task, settings: EvalSettings) -> dict[str, Any]:
    """The task's result (see ``evals/scores.py``'s ``TaskResult``), as JSON-able data."""
    started = time.monotonic()
    result: dict[str, Any] = {
        "task": task.name,
        "kind": task.kind,
        "tags": list(task.tags),
        "target": task.target,
        "status": "ok",
        "error": None,
        "committed": False,
        "hidden_tests": None,
        "hidden_failures": [],
        "speedup": 1.0,
        "speedup_interval": None,
        "claimed_speedup": None,
        # Measured in this run (see ``_judge``, ``_reference_alone``); the stored figure until then.
        "reference_speedup": task.reference_speedup,
        "reference_interval": None,
        "stored_reference_speedup": task.reference_speedup,
        "reference_timing": None,  # "measured" | "stored"; None for a task with no reference
        "candidates": [],
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
    }
    if task.objective == MEMORY:  # scored on peak memory: its figures, as the speedup's above
        result.update(
            memory_ratio=1.0,
            memory_interval=None,
            claimed_memory_ratio=None,
            reference_memory_ratio=task.reference_memory_ratio,
            reference_memory_interval=None,
            stored_reference_memory_ratio=task.reference_memory_ratio,
        )
    scratch = Path(tempfile.mkdtemp(prefix=f"evolver-eval-{task.name}-"))
    try:
        try:
            repo = _fresh_repo(task, scratch / "repo")
            config, provider, ledger = _agent(task, settings, repo)
            report = loop.run(config, provider, loop.Silent())
            report.usage = ledger.summary()
            result.update(_what_it_did(report))
            if report.committed:
                result.update(_judge(task, repo, scratch, settings))
        except (UsageError, RetimeError, PeakError, subprocess.CalledProcessError) as error:
            result.update(status="error", error=str(error)[:500])
        if task.reference is not None and result["reference_timing"] is None:
            result.update(_reference_alone(task, scratch, settings))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["wall_seconds"] = round(time.monotonic() - started, 2)
    return result


def _fresh_repo(task: Task, repo: Path) -> Path:
    shutil.copytree(task.repo, repo)
    env = {**os.environ, **_GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "task"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


def _agent(task: Task, settings: EvalSettings, repo: Path) -> tuple[RunConfig, Provider, Ledger]:
    options = dict(settings.options)
    if settings.replies_dir is not None:
        options["replies"] = settings.replies_dir / f"{task.name}.jsonl"
    elif settings.record_dir is not None and settings.provider in MODEL_PROVIDERS:
        settings.record_dir.mkdir(parents=True, exist_ok=True)
        log = settings.record_dir / f"{task.name}.jsonl"
        log.unlink(missing_ok=True)  # a task resumed runs again whole: so does its log
        options["record_replies"] = log
    if task.objective == MEMORY:
        options["objective"] = MEMORY
    provider_name = "rules" if settings.provider == "oracle" else settings.provider
    config = RunConfig(
        repo=repo,
        targets=(TargetRef.parse(task.target),),
        provider=provider_name,
        branch=BRANCH,
        confirm=False,  # the harness re-times the result itself
        **options,
    )
    ledger = Ledger(config.budget_usd, config.prices)
    if settings.provider == "oracle":
        return config, OracleProvider(task.reference), ledger
    return config, make_provider(config, ledger), ledger


def _what_it_did(report: RunReport) -> dict[str, Any]:
    usage = report.usage
    committed = [o for o in report.outcomes if o.committed]
    timing = committed[0].verdict.timing if committed else None
    memory = committed[0].verdict.memory if committed else None  # with --objective memory
    return {
        "committed": bool(committed),
        "claimed_speedup": None if timing is None else round(timing.speedup, 4),
        **({} if memory is None else {"claimed_memory_ratio": round(memory.ratio, 4)}),
        "candidates": [
            {
                "summary": o.candidate.summary,
                "strategy": o.candidate.strategy,
                "committed": o.committed,
                "stage": o.verdict.stage,
                "accepted": o.verdict.accepted,
                "reason": o.verdict.reason,
            }
            for o in report.outcomes
        ],
        "notes": report.notes,
        # A replay spends nothing, but its replies cost the recorded tokens: those are the
        # model's figures (one of the two is always 0).
        "input_tokens": sum(
            int(usage.get(k, 0)) for k in ("input_tokens", "recorded_input_tokens")
        ),
        "output_tokens": sum(
            int(usage.get(k, 0)) for k in ("output_tokens", "recorded_output_tokens")
        ),
        "cost_usd": float(usage.get("cost_usd", 0.0)),
    }


def _judge(task: Task, repo: Path, scratch: Path, settings: EvalSettings) -> dict[str, Any]:
    """Hidden tests on the result branch, and the result and the reference re-timed against
    the original (and, for a task scored on memory, their peak memory measured against it),
    all in sandboxes."""
    result_tree = scratch / "result"
    subprocess.run(
        ["git", "clone", "-q", "--branch", BRANCH, str(repo), str(result_tree)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(result_tree / ".git")
    hidden = sorted(task.hidden.glob("*.py"))
    for path in hidden:
        shutil.copy(path, result_tree / "tests" / path.name)
    project = Project()
    parent = scratch / "sandboxes"
    with contextlib.ExitStack() as stack:
        judged = stack.enter_context(Sandbox.create(parent, result_tree))
        tests = project.run_tests(judged, select=[f"tests/{p.name}" for p in hidden])
        sides = {
            "original": stack.enter_context(Sandbox.create(parent, task.repo)),
            "result": judged,
        }
        if task.reference is not None:
            sides["reference"] = stack.enter_context(_reference_sandbox(task, parent))
        samples = _retime(project, task, sides, settings)
        peaks = _peaks(project, task, sides)
    speed, interval = speedup(samples, "result")
    judged_result = {
        "hidden_tests": "passed" if tests.ok else "failed",
        "hidden_failures": list(tests.failed) or ([] if tests.ok else [tests.describe_failure()]),
        "speedup": round(speed, 4),
        "speedup_interval": _rounded(interval),
        **_memory_figures(peaks, "result", "memory"),
    }
    if task.reference is not None:
        judged_result.update(_reference_figures(samples, peaks))
    return judged_result


def _reference_alone(task: Task, scratch: Path, settings: EvalSettings) -> dict[str, Any]:
    """The reference timed against the original when no result was: the share of the
    reference is then as like for like as a judged result's. Should that fail, the stored
    figure stands, and ``reference_timing`` says so."""
    parent = scratch / "reference-sandboxes"
    project = Project()
    try:
        with (
            Sandbox.create(parent, task.repo) as original,
            _reference_sandbox(task, parent) as reference,
        ):
            sides = {"original": original, "reference": reference}
            samples = _retime(project, task, sides, settings)
            peaks = _peaks(project, task, sides)
    except (RetimeError, PeakError, OSError, UsageError) as error:
        return {"reference_timing": "stored", "reference_error": str(error)[:300]}
    return _reference_figures(samples, peaks)


def _reference_sandbox(task: Task, parent: Path) -> Sandbox:
    """A copy of the task's repo with its reference files laid over it."""
    assert task.reference is not None, "only for tasks with a reference"
    sandbox = Sandbox.create(parent, task.repo)
    try:
        for relative, text in task.reference_files().items():
            sandbox.write_file(relative, text)
    except BaseException:
        sandbox.remove()
        raise
    return sandbox


def _retime(
    project: Project, task: Task, sides: dict[str, Sandbox], settings: EvalSettings
) -> Samples:
    module = TargetRef.parse(task.target).module
    return retime_sides(
        project, sides, task.benchmark, module, settings.retime_rounds, settings.retime_calls
    )


def _peaks(project: Project, task: Task, sides: dict[str, Sandbox]) -> dict[str, MemoryUse]:
    """Each side's peak memory against the original's, for a task scored on memory (none for
    one scored on time)."""
    if task.objective != MEMORY:
        return {}
    return peak_ratios(project, sides, task.benchmark, TargetRef.parse(task.target))


def _memory_figures(peaks: dict[str, MemoryUse], side: str, prefix: str) -> dict[str, Any]:
    """``<prefix>_ratio`` and ``<prefix>_interval`` of ``side``, if its memory was measured."""
    use = peaks.get(side)
    if use is None:
        return {}
    return {f"{prefix}_ratio": round(use.ratio, 4), f"{prefix}_interval": _rounded(use.ci)}


def _reference_figures(samples: Samples, peaks: dict[str, MemoryUse]) -> dict[str, Any]:
    """The reference's figures, measured in this run (``reference_timing`` says so for all)."""
    speed, interval = speedup(samples, "reference")
    return {
        "reference_speedup": round(speed, 4),
        "reference_interval": _rounded(interval),
        "reference_timing": "measured",
        **_memory_figures(peaks, "reference", "reference_memory"),
    }


def _rounded(interval: tuple[float, float]) -> list[float]:
    return [round(interval[0], 4), round(interval[1], 4)]

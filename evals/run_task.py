"""Run the agent on one task and score what it committed, by the harness's own measures.

The agent works on a fresh git copy of the task's ``repo/`` (the hidden tests are not in it).
Whatever it commits is then judged without trusting its report: the hidden tests run on the
result branch, and the benchmark's call is re-timed on the original and on the result.
"""

from __future__ import annotations

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
from agent.domain import RunReport, TargetRef
from agent.errors import UsageError
from agent.project import Project
from agent.providers import make_provider
from agent.providers.base import Provider
from agent.providers.usage import Ledger
from evals.corpus import Task
from evals.oracle import OracleProvider
from evals.retime import RetimeError, retime
from sandbox import Sandbox

BRANCH = "evolver/eval"
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
    retime_rounds: int = 4

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
        "reference_speedup": task.reference_speedup,
        "candidates": [],
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
    }
    scratch = Path(tempfile.mkdtemp(prefix=f"evolver-eval-{task.name}-"))
    try:
        repo = _fresh_repo(task, scratch / "repo")
        config, provider, ledger = _agent(task, settings, repo)
        report = loop.run(config, provider, loop.Silent())
        report.usage = ledger.summary()
        result.update(_what_it_did(report))
        if report.committed:
            result.update(_judge(task, repo, scratch))
    except (UsageError, RetimeError, subprocess.CalledProcessError) as error:
        result.update(status="error", error=str(error)[:500])
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
    elif settings.record_dir is not None and settings.provider not in ("rules", "oracle"):
        settings.record_dir.mkdir(parents=True, exist_ok=True)
        options["record_replies"] = settings.record_dir / f"{task.name}.jsonl"
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
    committed = [o for o in report.outcomes if o.committed]
    timing = committed[0].verdict.timing if committed else None
    return {
        "committed": bool(committed),
        "claimed_speedup": None if timing is None else round(timing.speedup, 4),
        "candidates": [
            {
                "summary": o.candidate.summary,
                "stage": o.verdict.stage,
                "accepted": o.verdict.accepted,
                "reason": o.verdict.reason,
            }
            for o in report.outcomes
        ],
        "notes": report.notes,
        "input_tokens": int(report.usage.get("input_tokens", 0)),
        "output_tokens": int(report.usage.get("output_tokens", 0)),
        "cost_usd": float(report.usage.get("cost_usd", 0.0)),
    }


def _judge(task: Task, repo: Path, scratch: Path) -> dict[str, Any]:
    """Hidden tests on the result branch, and the speedup re-timed, all in sandboxes."""
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
    with (
        Sandbox.create(parent, result_tree) as judged,
        Sandbox.create(parent, task.repo) as original,
    ):
        tests = project.run_tests(judged, select=[f"tests/{p.name}" for p in hidden])
        module = TargetRef.parse(task.target).module
        speedup, interval = retime(project, original, judged, task.benchmark, module)
    return {
        "hidden_tests": "passed" if tests.ok else "failed",
        "hidden_failures": list(tests.failed) or ([] if tests.ok else [tests.describe_failure()]),
        "speedup": round(speedup, 4),
        "speedup_interval": [round(interval[0], 4), round(interval[1], 4)],
    }

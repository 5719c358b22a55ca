"""The benchmark: per library, Evolver's own command line end to end, then the library's suite.

For each repository: fetch the pinned sdist (cached by hash), make a git repository of it with
its workload, run ``evolver run`` in a subprocess (what users run is what is measured), then,
when a branch was made, the library's full suite on it (``suite.py``). Evolver's JSON report
goes to ``OUT/<repo>.json`` and its output to ``OUT/<repo>.log``; the benchmark's record of the
repository to ``OUT/<repo>.bench.json``. A repository whose ``OUT/<repo>.json`` exists is not
run again, so a stopped benchmark resumes.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evals.realrepos.fetch import FetchError, fetch_sdist, git, make_repo
from evals.realrepos.judgeability import judgeability, target_judgements
from evals.realrepos.manifest import WORKLOAD_COMMAND, RepoSpec
from evals.realrepos.suite import check_branch
from evals.realrepos.tables import write_summary

RESULT_BRANCH = "evolver/realrepos"
SUMMARY_VERSION = 1
_GRACE_SECONDS = 60.0  # for Evolver to stop after SIGTERM


class BenchmarkError(RuntimeError):
    """The benchmark cannot go on (an output directory holding another provider's run)."""


@dataclass(frozen=True)
class Settings:
    """How to run Evolver on every repository. ``evolver_args`` go to ``evolver run`` as they
    are (``--model``, ``--base-url``, …); ``python`` is the interpreter Evolver and the
    libraries run with."""

    provider: str
    out: Path
    cache: Path
    max_targets: int | None = None
    confirm: bool = False
    evolver_args: tuple[str, ...] = ()
    python: str = sys.executable
    timeout: float | None = None  # seconds per `evolver run`; None: no limit

    def evolver_command(self) -> list[str]:
        """The installed ``evolver`` script next to the interpreter, else ``python -m agent``."""
        script = Path(self.python).parent / "evolver"
        return [str(script)] if script.is_file() else [self.python, "-m", "agent"]


def run_benchmark(
    specs: list[RepoSpec],
    settings: Settings,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every repository not yet done, then the summary of all of them (written as
    ``summary.json`` and ``summary.md`` in ``settings.out``)."""
    settings.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    records = []
    for spec in specs:
        record = run_repo(spec, settings)
        records.append(record)
        if on_done is not None:
            on_done(record)
    summary = summarize(records, settings, time.monotonic() - started)
    write_summary(summary, settings.out)
    return summary


def run_repo(spec: RepoSpec, settings: Settings) -> dict[str, Any]:
    """The benchmark's record of one repository (resumed from ``OUT`` when it is there)."""
    report_path = settings.out / f"{spec.name}.json"
    record_path = settings.out / f"{spec.name}.bench.json"
    if report_path.exists():
        report = _load(report_path)
        if report.get("provider") != settings.provider:
            raise BenchmarkError(
                f"{report_path} is a run with provider {report.get('provider')!r}, not "
                f"{settings.provider!r}: use another --out"
            )
        if record_path.exists():
            return {**_load(record_path), "resumed": True}
        repo = settings.out / "repos" / spec.name
        record = _judge(spec, report, repo, _report_seconds(report), None)
    else:
        record = _run_fresh(spec, settings, report_path)
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _run_fresh(spec: RepoSpec, settings: Settings, report_path: Path) -> dict[str, Any]:
    repo = settings.out / "repos" / spec.name
    try:
        sdist = fetch_sdist(spec, settings.cache, settings.python)
        make_repo(spec, sdist, repo)
    except FetchError as error:
        return _failed(spec, "fetch", str(error), None, 0.0)
    argv = [
        *settings.evolver_command(), "run", str(repo),
        "--workload", WORKLOAD_COMMAND,
        "--test-command", spec.test_command,
        "--provider", settings.provider,
        "--branch", RESULT_BRANCH,
        "--json", str(report_path),
        "--no-progress",
        *([] if settings.confirm else ["--no-confirm"]),
        *([] if settings.max_targets is None else ["--max-targets", str(settings.max_targets)]),
        *settings.evolver_args,
    ]  # fmt: skip
    log = settings.out / f"{spec.name}.log"
    started = time.monotonic()
    code = _run_logged(argv, log, settings)
    seconds = time.monotonic() - started
    if code != 0 or not report_path.exists():
        why = _last_line(log) or "no output"
        how = f"stopped after {settings.timeout:.0f}s" if code is None else f"exited {code}"
        return _failed(spec, "evolver", f"evolver {how}: {why}", code, seconds)
    return _judge(spec, _load(report_path), repo, seconds, code)


def _run_logged(argv: list[str], log: Path, settings: Settings) -> int | None:
    """Exit code, or ``None`` when it ran out of time; its output goes to ``log``."""
    with log.open("w", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(argv)}\n")
        out.flush()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            return process.wait(timeout=settings.timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            out.write(f"\n[realrepos] stopped after {settings.timeout}s\n")
            return None
        except BaseException:  # Ctrl-C or an error here: the child must not outlive us
            _stop(process)
            raise


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first: Evolver stops cleanly on it (sandboxes removed, exit 130)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _judge(
    spec: RepoSpec, report: dict[str, Any], repo: Path, seconds: float, code: int | None
) -> dict[str, Any]:
    """The record of a run that produced its report: its counts, and the suite on its branch."""
    judgements = target_judgements(report)
    candidates = report.get("candidates", [])
    branch = report.get("branch")
    record = {
        **_identity(spec),
        "status": "ok",
        "error": None,
        "exit_code": code,
        "targets": len(judgements),
        "candidates": len(candidates),
        "accepted": sum(c.get("verdict") == "accepted" for c in candidates),
        "committed": sum(bool(c.get("committed")) for c in candidates),
        "judged": sum(j.judged for j in judgements),
        "judgeability": judgeability(judgements),
        "speedup": _speedup(report.get("confirmation")),
        "branch": branch,
        "suite": None,
        "broken_commits": 0,
        "wall_seconds": round(seconds, 1),
        "per_target": [j.as_json() for j in judgements],
        "notes": list(report.get("notes", [])),
    }
    if branch and _branch_exists(repo, branch):
        base = str(report.get("base_commit"))
        check = check_branch(repo, base, branch, spec.test_command)
        record["suite"] = {
            "passed": check.passed,
            "commits": check.commits,
            "broken": check.broken,
            "notes": check.notes,
            "seconds": round(check.seconds, 1),
        }
        record["broken_commits"] = check.broken_commits
    return record


def _branch_exists(repo: Path, branch: str) -> bool:
    try:
        git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
    except FetchError:
        return False
    return True


def _speedup(confirmation: dict[str, Any] | None) -> dict[str, Any] | None:
    if not confirmation:
        return None
    return {
        "speedup": confirmation.get("speedup"),
        "method": confirmation.get("method"),
        "wall_speedup": confirmation.get("wall_speedup"),
    }


def _failed(
    spec: RepoSpec, where: str, error: str, code: int | None, seconds: float
) -> dict[str, Any]:
    return {
        **_identity(spec),
        "status": f"{where} failed",
        "error": error,
        "exit_code": code,
        "targets": None,
        "candidates": None,
        "accepted": None,
        "committed": None,
        "judged": None,
        "judgeability": None,
        "speedup": None,
        "branch": None,
        "suite": None,
        "broken_commits": 0,
        "wall_seconds": round(seconds, 1),
        "per_target": [],
        "notes": [],
    }


def _identity(spec: RepoSpec) -> dict[str, Any]:
    return {
        "repo": spec.name,
        "project": spec.project,
        "version": spec.version,
        "sha256": spec.sha256,
        "test_command": spec.test_command,
    }


def summarize(records: list[dict[str, Any]], settings: Settings, seconds: float) -> dict[str, Any]:
    targets = sum(r["targets"] or 0 for r in records)
    judged = sum(r["judged"] or 0 for r in records)
    return {
        "version": SUMMARY_VERSION,
        "provider": settings.provider,
        "max_targets": settings.max_targets,
        "evolver_args": list(settings.evolver_args),
        "repos": records,
        "totals": {
            "repos": len(records),
            "failed": sum(r["status"] != "ok" for r in records),
            "targets": targets,
            "candidates": sum(r["candidates"] or 0 for r in records),
            "accepted": sum(r["accepted"] or 0 for r in records),
            "committed": sum(r["committed"] or 0 for r in records),
            "broken_commits": sum(r["broken_commits"] for r in records),
            "judged": judged,
            "judgeability": judged / targets if targets else None,
            "wall_seconds": round(sum(r["wall_seconds"] for r in records), 1),
        },
        "this_invocation_seconds": round(seconds, 1),
    }


def _report_seconds(report: dict[str, Any]) -> float:
    """A run's length from its report's own times (for a record made after a stop)."""
    try:
        started = datetime.fromisoformat(str(report["started"]))
        finished = datetime.fromisoformat(str(report["finished"]))
    except (KeyError, ValueError):
        return 0.0
    return max(0.0, (finished - started).total_seconds())


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise BenchmarkError(f"{path} is not a JSON object")
    return data


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines = [line.strip() for line in lines if line.strip()]
    return lines[-1][:300] if lines else ""

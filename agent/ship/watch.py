"""`evolver watch`: keep a branch fast. Each cycle:

1. measure the branch's tip (``agent.ship.health``) and score it against the thresholds;
2. judge the changes Evolver landed that are still on probation: one whose metrics are worse
   than they were just before it landed, by more than ``rollback_threshold``, is reverted
   (``git revert``) when ``auto_rollback`` is on;
3. when the metrics slipped (a threshold breached, or worse than the last cycle by more than
   ``regression``) or new commits landed, evolve: profile the tip, and run one ``evolver run``
   per hot target (at most ``max_concurrent`` at once, each stopped after
   ``evolution_timeout``), in its own process, recorded in the history like any run;
4. land each proven change whose risk level the policy (``land``) lets through without
   review, by cherry-picking it onto the branch; hold the others on their own branches.

Everything is recorded as events in the history (``watch``, ``land``, ``hold``, ``revert``),
which is also the watcher's memory: a cycle can run as a one-off (``--once`` from cron or CI)
as well as in a long-lived process. The branch moves only by compare-and-swap, never under a
checkout (``gitops.on_branch``). When only metrics named in ``memory_metrics`` slipped, the
evolutions optimize memory (``--objective memory``); when others slipped too, both.

Over 400 lines: the cycle's four steps share its state and the history's events, and are read
best in one place.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import git

from agent.config import WatchConfig
from agent.domain import TargetRef
from agent.profile.memory import profile_memory, with_memory
from agent.profile.profiling import profile_workload
from agent.project.runner import Project
from agent.project.workspace import Workspace
from agent.rank.ranking import rank
from agent.record import gitops
from agent.record.store import Store
from agent.reports import format as fmt
from agent.reports.model import Report, ReportCandidate, ReportError
from agent.ship.health import (
    Health,
    MeasureFailed,
    health,
    measure,
    objective_for,
    worse,
    worse_metrics,
)
from sandbox import Limits


@dataclass
class Cycle:
    """What one watch cycle saw and did."""

    commit: str  # the tip it measured
    metrics: dict[str, float]
    health: Health
    previous: dict[str, float] = field(default_factory=dict)  # the last cycle's metrics
    regressions: list[str] = field(default_factory=list)  # against the last cycle
    trigger: str | None = None  # why it evolved, if it did
    objective: str = "time"  # what it evolved for: memory when only memory metrics slipped
    landed: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    reverted: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    after: str = ""  # the tip after this cycle's own landings and reverts

    def summary(self) -> str:
        done = [f"landed {len(self.landed)}"] if self.landed else []
        done += [f"reverted {len(self.reverted)}"] if self.reverted else []
        done += [f"held {len(self.held)} for review"] if self.held else []
        evolved = f"evolved ({self.trigger})" if self.trigger else "no evolution"
        return f"health {fmt.fixed(self.health.score, 0)}; {evolved}" + (
            "; " + ", ".join(done) if done else ""
        )


class Watcher:
    def __init__(
        self,
        repo_path: Path,
        settings: WatchConfig,
        store: Store,
        project: Project,
        limits: Limits,
        step: Callable[[str], None] = lambda message: None,
    ) -> None:
        """``limits`` are those of the commands that measure and profile the branch, and of
        the evolutions' runs (``--memory-mb``)."""
        self.repo = gitops.open_repo(repo_path)
        self.path = Path(self.repo.working_dir)
        self.settings = settings
        self.store = store
        self.project = project
        self.limits = limits
        self.step = step
        gitops.check_movable(self.repo, settings.branch)

    def cycle(self) -> Cycle:
        branch = self.settings.branch
        tip = gitops.branch_tip(self.repo, branch)
        last = self._last_cycle()
        self.step(f"measuring {branch} at {fmt.short_sha(tip)}")
        try:
            measured = measure(self.repo, tip, self.settings, self.project, self.limits)
        except MeasureFailed as error:
            self.store.event(
                "watch", {"commit": tip, "error": str(error)}, branch=branch, commit=tip
            )
            raise
        now = Cycle(tip, measured.metrics, health(measured.metrics, self.settings.thresholds))
        now.notes.extend(measured.notes)
        if last is not None:
            now.previous = last["metrics"]
            now.regressions = worse(
                now.metrics,
                last["metrics"],
                self.settings.regression,
                self.settings.higher_is_better,
            )
        self._judge_landings(now)
        if not now.reverted:
            now.trigger = self._trigger(now, last)
            if now.trigger:
                self._evolve(now)
        now.after = gitops.branch_tip(self.repo, branch)
        if self.settings.push and now.after != tip:
            gitops.push(self.repo, self.settings.push, branch)
        self.store.event(
            "watch",
            {
                "commit": tip,
                "after": now.after,
                "metrics": now.metrics,
                "health": round(now.health.score, 2),
                "breaches": list(now.health.breaches),
                "regressions": now.regressions,
                "trigger": now.trigger,
                "objective": now.objective,
                "evolved_at": tip if now.trigger else (last or {}).get("evolved_at"),
                "landed": [x["event"] for x in now.landed],
                "reverted": [x["event"] for x in now.reverted],
                "notes": now.notes,
                "summary": now.summary(),
            },
            branch=branch,
            commit=tip,
        )
        return now

    # What the history remembers

    def _last_cycle(self) -> dict[str, Any] | None:
        cycles = [
            e["detail"]
            for e in self.store.events(kind="watch")
            if e["branch"] == self.settings.branch and "metrics" in e["detail"]
        ]
        return cycles[-1] if cycles else None

    def _on_probation(self) -> list[dict[str, Any]]:
        reverted = {e["detail"].get("land_event") for e in self.store.events(kind="revert")}
        events = self.store.events()
        found = []
        for event in events:
            if event["kind"] != "land" or event["branch"] != self.settings.branch:
                continue
            if event["id"] in reverted:
                continue
            # The first watch event after a landing is its own cycle's, measured before it.
            watched = (
                sum(
                    1
                    for e in events
                    if e["kind"] == "watch"
                    and e["id"] > event["id"]
                    and e["branch"] == event["branch"]
                )
                - 1
            )
            if watched < self.settings.observe_cycles:
                found.append(event)
        return found

    def _reverted_patches(self) -> set[str]:
        return {e["detail"].get("patch_sha256") for e in self.store.events(kind="revert")}

    # Rollback

    def _judge_landings(self, now: Cycle) -> None:
        for landing in self._on_probation():
            commit = landing["commit"]
            if not gitops.is_ancestor(self.repo, commit, now.commit):
                continue  # not on the branch any more (rewritten history)
            baseline = landing["detail"]["baseline"]
            slipped = worse(
                now.metrics,
                baseline,
                self.settings.rollback_threshold,
                self.settings.higher_is_better,
            )
            if not slipped:
                continue
            if not self.settings.auto_rollback:
                now.notes.append(
                    f"landing {landing['id']} ({fmt.short_sha(commit)}) made things worse: "
                    f"{'; '.join(slipped)}; auto_rollback is off"
                )
                continue
            why = "worse than before it landed: " + "; ".join(slipped)
            self.step(f"reverting {fmt.short_sha(commit)}: {why}")
            try:
                reverted = revert(self.repo, self.store, landing, self.settings.branch, why)
            except (git.GitCommandError, gitops.BranchMoved) as error:
                now.notes.append(f"could not revert {fmt.short_sha(commit)}: {_one_line(error)}")
                continue
            now.reverted.append(reverted)

    # Evolution

    def _trigger(self, now: Cycle, last: dict[str, Any] | None) -> str | None:
        if last is not None and last.get("evolved_at") == now.commit:
            return None
        reasons = []
        if now.health.breaches:
            score = fmt.fixed(now.health.score, 0)
            reasons.append(f"health {score}: " + "; ".join(now.health.breaches))
        if now.regressions:
            reasons.append("worse than the last cycle: " + "; ".join(now.regressions))
        if last is not None and last.get("after") != now.commit:
            reasons.append("new commits")
        slipped = set(now.health.breached)
        if last is not None:
            settings = self.settings
            slipped.update(
                worse_metrics(
                    now.metrics, last["metrics"], settings.regression, settings.higher_is_better
                )
            )
        now.objective = objective_for(slipped, self.settings.memory_metrics)
        return ", ".join(reasons) or None

    def _evolve(self, now: Cycle) -> None:
        targets = self._hot_targets(now.commit, now.objective)
        if not targets:
            now.notes.append("the profile shows nothing worth evolving")
            return
        for_what = "" if now.objective == "time" else f" for {now.objective}"
        self.step(f"evolving {len(targets)} target(s){for_what}: {now.trigger}")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        jobs = [(ref, f"evolver/watch/{stamp}-{i}") for i, ref in enumerate(targets, 1)]
        with ThreadPoolExecutor(max_workers=self.settings.max_concurrent) as pool:
            reports = list(
                pool.map(
                    lambda job: self._evolution(now.commit, job[0], job[1], now.objective), jobs
                )
            )
        reverted = self._reverted_patches()
        for (ref, _), report in zip(jobs, reports, strict=True):
            if isinstance(report, str):
                now.notes.append(f"{ref}: {report}")
                continue
            for candidate in report.committed_candidates:
                self._land(now, report, candidate, reverted)

    def _hot_targets(self, commit: str, objective: str) -> list[TargetRef]:
        with Workspace.for_commit(
            self.repo, commit, self.limits, self.project.readable
        ) as workspace:
            with workspace.sandbox("profile") as sandbox:
                profile = profile_workload(self.project, sandbox)
            if objective != "time":
                with workspace.sandbox("memory") as sandbox:
                    profile = with_memory(profile, profile_memory(self.project, sandbox)[0])
            ranked = rank(workspace.state, profile.functions, self.settings.max_targets, objective)
            return [t.ref for t in ranked]

    def _evolution(
        self, commit: str, ref: TargetRef, branch: str, objective: str = "time"
    ) -> Report | str:
        """One `evolver run` on one target, in its own process group; its JSON report, or
        why there is none."""
        with tempfile.TemporaryDirectory(prefix="evolver-watch-") as tmp:
            out = Path(tmp) / "report.json"
            argv = [
                sys.executable,
                "-m",
                "agent",
                "run",
                str(self.path),
                "--base",
                commit,
                "--target",
                str(ref),
                "--branch",
                branch,
                "--json",
                str(out),
                "--min-speedup",
                str(self.settings.min_improvement),
                "--no-confirm",
                "--no-progress",
                "--objective",
                objective,
            ]
            if self.settings.provider:
                argv += ["--provider", self.settings.provider]
            if self.limits.memory_mb is not None:
                argv += ["--memory-mb", str(self.limits.memory_mb)]
            process = subprocess.Popen(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            try:
                _, stderr = process.communicate(timeout=self.settings.evolution_timeout)
            except subprocess.TimeoutExpired:
                _stop(process)
                return f"evolution stopped after {fmt.fixed(self.settings.evolution_timeout, 0)}s"
            if process.returncode != 0 or not out.exists():
                return f"evolution failed: {_one_line(stderr or 'no output')}"
            try:
                return Report.read(out)
            except ReportError as error:
                return f"evolution's report is unreadable: {error}"

    def _land(
        self, now: Cycle, report: Report, candidate: ReportCandidate, reverted: set[str]
    ) -> None:
        patch_sha = hashlib.sha256((candidate.patch or "").encode()).hexdigest()
        commit = candidate.commit or ""
        stored = self.store.committed_by_commit(commit)
        # A change the report gives no risk for is treated as the riskiest.
        risk = candidate.risk.level if candidate.risk else "high"
        detail = {
            "target": candidate.target,
            "summary": candidate.summary,
            "speedup": candidate.speedup,
            "risk": risk,
            "run_id": report.run_id,
            "source_branch": report.branch,
            "patch_sha256": patch_sha,
            "baseline": now.metrics,
        }
        candidate_id = stored["id"] if stored else None
        if patch_sha in reverted:
            now.notes.append(
                f"{candidate.target}: {candidate.summary} was reverted before; not again"
            )
            return
        if risk not in self.settings.land:
            event = self.store.event(
                "hold",
                {**detail, "why": f"risk {risk} needs review"},
                run_id=report.run_id,
                candidate_id=candidate_id,
                branch=report.branch,
                commit=commit,
            )
            now.held.append({**detail, "event": event})
            return
        try:
            landed = gitops.on_branch(
                self.repo, self.settings.branch, ("cherry-pick", "-x", commit)
            )
        except (git.GitCommandError, gitops.BranchMoved) as error:
            now.notes.append(f"could not land {candidate.target}: {_one_line(error)}")
            return
        self.step(f"landed {candidate.target} ({candidate.summary}) as {fmt.short_sha(landed)}")
        event = self.store.event(
            "land",
            detail,
            run_id=report.run_id,
            candidate_id=candidate_id,
            branch=self.settings.branch,
            commit=landed,
        )
        now.landed.append({**detail, "event": event, "commit": landed})


def revert(
    repo: git.Repo, store: Store, landing: dict[str, Any], branch: str, why: str
) -> dict[str, Any]:
    """Revert a landed change on ``branch`` (``git revert``) and record it."""
    commit = landing["commit"]
    new = gitops.on_branch(repo, branch, ("revert", "--no-edit", commit))
    detail = {
        "land_event": landing["id"],
        "reverted_commit": commit,
        "why": why,
        "target": landing["detail"].get("target"),
        "summary": f"reverted {landing['detail'].get('summary', fmt.short_sha(commit))}: {why}",
        "patch_sha256": landing["detail"].get("patch_sha256"),
    }
    event = store.event(
        "revert",
        detail,
        run_id=landing.get("run_id"),
        candidate_id=landing.get("candidate_id"),
        branch=branch,
        commit=new,
    )
    return {**detail, "event": event, "commit": new}


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM first: the run cleans up its sandboxes and marks itself interrupted."""
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _one_line(error: object) -> str:
    text = str(getattr(error, "stderr", "") or error).strip().splitlines()
    return text[-1][:300] if text else type(error).__name__

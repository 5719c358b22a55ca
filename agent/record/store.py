"""The history: every run, candidate and landed or reverted change, in SQLite.

It lives in the repository's ``.evolver/history.db``. The directory carries its own
``.gitignore`` (``*``), so git ignores it without a line in the user's files; nothing else in
the checkout is written. A run is written as it goes (each target's candidates when the
target is done, with the result branch's tip at that moment), so an interrupted run can be
resumed from where it stopped. Replies are kept once each, by digest.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.domain import (
    Candidate,
    FunctionProfile,
    Outcome,
    Risk,
    RunReport,
    Target,
    TargetRef,
    Timing,
    Verdict,
)
from agent.errors import UsageError
from agent.record.schema import candidate_row, create_or_migrate
from agent.reports.model import report_json, target_json

DIRECTORY = ".evolver"
FILENAME = "history.db"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Resume:
    """Where an interrupted run stopped: its targets, those done, and the branch's tip."""

    run_id: int
    base: str
    branch: str
    tip: str
    targets: tuple[tuple[TargetRef, FunctionProfile | None], ...]
    done: frozenset[TargetRef]
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True)
class StoredRun:
    id: int
    started: str
    finished: str | None
    status: str
    base_commit: str
    branch: str
    published: bool
    provider: str
    model: str | None
    config: dict[str, Any]
    targets: list[dict[str, Any]]
    report: dict[str, Any] | None
    done: dict[str, str]  # target → the branch's tip after it


class Store:
    """The history of one repository. Cheap to open; one connection per instance."""

    def __init__(self, repo_root: Path) -> None:
        directory = repo_root / DIRECTORY
        directory.mkdir(exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Evolver's history; not for git.\n*\n", encoding="utf-8")
        self.path = directory / FILENAME
        # Evolutions run by `evolver watch` write from their own processes: wait, don't fail.
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        create_or_migrate(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Runs, as the loop goes (see ``agent.loop.Journal``)

    def begin(self, report: RunReport, branch: str, config: dict[str, Any]) -> int:
        cursor = self._db.execute(
            "INSERT INTO runs (started, status, repo, base_commit, branch, provider, model,"
            " config) VALUES (?, 'running', ?, ?, ?, ?, ?, ?)",
            (
                report.started or now(),
                report.repo,
                report.base_commit,
                branch,
                report.provider,
                report.model,
                json.dumps(config, default=str),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def targets_chosen(self, run_id: int, targets: list[Target]) -> None:
        data = json.dumps([target_json(t) for t in targets])
        self._db.execute("UPDATE runs SET targets = ? WHERE id = ?", (data, run_id))

    def target_done(self, run_id: int, target: Target, outcomes: list[Outcome], tip: str) -> None:
        with self._transaction() as db:
            for outcome in outcomes:
                self._insert_candidate(db, run_id, outcome)
            db.execute(
                "INSERT OR REPLACE INTO targets_done (run_id, target, tip) VALUES (?, ?, ?)",
                (run_id, str(target.ref), tip),
            )

    def end(self, run_id: int, report: RunReport, status: str = "finished") -> None:
        self._db.execute(
            "UPDATE runs SET finished = ?, status = ?, report = ?, branch = COALESCE(?, branch),"
            " published = ? WHERE id = ?",
            (
                report.finished or now(),
                status,
                json.dumps(report_json(report)),
                report.branch,
                int(report.branch is not None),
                run_id,
            ),
        )

    def interrupted(self, run_id: int) -> None:
        self._db.execute(
            "UPDATE runs SET status = 'interrupted', finished = ? WHERE id = ? AND"
            " status = 'running'",
            (now(), run_id),
        )

    def _insert_candidate(self, db: sqlite3.Connection, run_id: int, outcome: Outcome) -> None:
        candidate, verdict = outcome.candidate, outcome.verdict
        timing = verdict.timing
        provenance = dict(candidate.provenance)
        reply = provenance.pop("reply", None)
        if isinstance(reply, str) and provenance.get("reply_sha256"):
            db.execute(
                "INSERT OR IGNORE INTO replies (sha256, text) VALUES (?, ?)",
                (provenance["reply_sha256"], reply),
            )
        decision = (
            "committed" if outcome.committed else "accepted" if verdict.accepted else "rejected"
        )
        row = {
            "run_id": run_id,
            "target": str(candidate.target),
            "candidate": candidate.id,
            "provider": candidate.provider,
            "summary": candidate.summary,
            "strategy": candidate.strategy,
            "prompt_sha256": provenance.get("prompt_sha256"),
            "reply_sha256": provenance.get("reply_sha256"),
            "patch": outcome.patch,
            "stage": verdict.stage,
            "accepted": int(verdict.accepted),
            "reason": verdict.reason,
            "evidence": json.dumps(verdict.evidence),
            "speedup": timing.speedup if timing else None,
            "ci_low": timing.ci[0] if timing else None,
            "ci_high": timing.ci[1] if timing else None,
            "first_call": timing.first_call if timing else None,
            "samples": timing.samples if timing else None,
            "confidence": timing.confidence if timing else None,
            "timing_method": timing.method if timing else None,
            "not_compared": json.dumps(list(verdict.not_compared)),
            "decision": decision,
            "commit_sha": outcome.commit,
            "risk": outcome.risk.level if outcome.risk else None,
            "risk_reasons": json.dumps(list(outcome.risk.reasons) if outcome.risk else []),
            "provenance": json.dumps(provenance, default=str),
        }
        # The column names are this function's own constants; only the values are data.
        db.execute(
            f"INSERT INTO candidates ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )

    # Reading

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT r.*, (SELECT COUNT(*) FROM candidates c WHERE c.run_id = r.id) AS candidates,"
            " (SELECT COUNT(*) FROM candidates c WHERE c.run_id = r.id"
            "  AND c.decision = 'committed') AS committed"
            " FROM runs r ORDER BY r.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            {
                "id": row["id"],
                "started": row["started"],
                "finished": row["finished"],
                "status": row["status"],
                "base_commit": row["base_commit"],
                "branch": row["branch"] if row["published"] else None,
                "provider": row["provider"],
                "model": row["model"],
                "targets": len(json.loads(row["targets"])),
                "candidates": row["candidates"],
                "committed": row["committed"],
            }
            for row in rows
        ]

    def run(self, run_id: int) -> StoredRun:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"no run {run_id} in the history ({self.path})")
        done = dict(
            self._db.execute(
                "SELECT target, tip FROM targets_done WHERE run_id = ?", (run_id,)
            ).fetchall()
        )
        return StoredRun(
            id=row["id"],
            started=row["started"],
            finished=row["finished"],
            status=row["status"],
            base_commit=row["base_commit"],
            branch=row["branch"],
            published=bool(row["published"]),
            provider=row["provider"],
            model=row["model"],
            config=json.loads(row["config"]),
            targets=json.loads(row["targets"]),
            report=json.loads(row["report"]) if row["report"] else None,
            done=done,
        )

    def latest_run(self) -> int:
        row = self._db.execute("SELECT MAX(id) FROM runs").fetchone()
        if row[0] is None:
            raise UsageError(f"the history is empty ({self.path})")
        return int(row[0])

    def candidates(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM candidates WHERE run_id = ? ORDER BY id", (run_id,)
        ).fetchall()
        return [candidate_row(row) for row in rows]

    def candidate(self, candidate_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM candidates WHERE id = ?", (candidate_id,)).fetchone()
        if row is None:
            raise UsageError(f"no candidate {candidate_id} in the history ({self.path})")
        found = candidate_row(row)
        found["events"] = self.events(candidate_id=candidate_id)
        if row["reply_sha256"]:
            reply = self._db.execute(
                "SELECT text FROM replies WHERE sha256 = ?", (row["reply_sha256"],)
            ).fetchone()
            found["reply"] = reply[0] if reply else None
        return found

    def outcomes(self, run_id: int) -> list[Outcome]:
        """The run's outcomes as the loop made them (without the candidates' file texts)."""
        found = []
        for row in self.candidates(run_id):
            ci = row["ci"]
            timing = (
                Timing(
                    row["speedup"],
                    (ci[0], ci[1]),
                    row["samples"],
                    row["first_call_speedup"],
                    row["confidence"] or 0.95,
                    row["timing_method"],
                )
                if row["speedup"] is not None and ci
                else None
            )
            risk = row["risk"]
            found.append(
                Outcome(
                    Candidate(
                        row["candidate"],
                        TargetRef.parse(row["target"]),
                        row["provider"],
                        {},
                        row["summary"],
                        provenance=row["provenance"],
                        strategy=row["strategy"],
                    ),
                    Verdict(
                        row["accepted"],
                        row["stage"],
                        row["reason"],
                        timing,
                        row["evidence"],
                        not_compared=tuple(row["stages_not_compared"]),
                    ),
                    committed=row["decision"] == "committed",
                    commit=row["commit"],
                    patch=row["patch"],
                    risk=Risk(risk["level"], tuple(risk["reasons"])) if risk else None,
                )
            )
        return found

    def committed_by_commit(self, sha: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT * FROM candidates WHERE commit_sha = ? ORDER BY id DESC", (sha,)
        ).fetchone()
        return None if row is None else candidate_row(row)

    # Events: landing, reverting, watching, pull requests

    def event(
        self,
        kind: str,
        detail: dict[str, Any],
        *,
        run_id: int | None = None,
        candidate_id: int | None = None,
        branch: str | None = None,
        commit: str | None = None,
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO events (at, kind, run_id, candidate_id, branch, commit_sha, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now(), kind, run_id, candidate_id, branch, commit, json.dumps(detail, default=str)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def events(
        self,
        kind: str | None = None,
        candidate_id: int | None = None,
        run_id: int | None = None,
        last: int | None = None,
    ) -> list[dict[str, Any]]:
        """Events, oldest first; with ``last``, only the newest ``last`` of them."""
        query, args = "SELECT * FROM events WHERE 1 = 1", list[Any]()
        for column, value in (("kind", kind), ("candidate_id", candidate_id), ("run_id", run_id)):
            if value is not None:
                query, args = query + f" AND {column} = ?", [*args, value]
        query = f"SELECT * FROM ({query} ORDER BY id DESC LIMIT ?) ORDER BY id"
        rows = self._db.execute(query, (*args, -1 if last is None else last)).fetchall()
        return [
            {
                "id": row["id"],
                "at": row["at"],
                "kind": row["kind"],
                "run_id": row["run_id"],
                "candidate_id": row["candidate_id"],
                "branch": row["branch"],
                "commit": row["commit_sha"],
                "detail": json.loads(row["detail"]),
            }
            for row in rows
        ]


class RunJournal:
    """The loop's ``Journal`` on a store: one run, written as it goes."""

    def __init__(self, store: Store, config: dict[str, Any], run_id: int | None = None) -> None:
        self.store = store
        self.config = config
        self.run_id = run_id  # set for a resumed run

    def begin(self, report: RunReport, branch: str) -> int:
        self.run_id = self.store.begin(report, branch, self.config)
        return self.run_id

    def targets_chosen(self, targets: list[Target]) -> None:
        assert self.run_id is not None
        self.store.targets_chosen(self.run_id, targets)

    def target_done(self, target: Target, outcomes: list[Outcome], tip: str) -> None:
        assert self.run_id is not None
        self.store.target_done(self.run_id, target, outcomes, tip)

    def end(self, report: RunReport) -> None:
        assert self.run_id is not None
        self.store.end(self.run_id, report)

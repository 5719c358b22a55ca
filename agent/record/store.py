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
    STAGES,
    Candidate,
    Outcome,
    Risk,
    RunReport,
    Target,
    TargetRef,
    Timing,
    Verdict,
    stages_passed,
)
from agent.errors import UsageError
from agent.reports.model import report_json, target_json

DIRECTORY = ".evolver"
FILENAME = "history.db"

# Columns added after a history could first be written: (table → column → type).
_COLUMNS = {
    "candidates": {
        "confidence": "REAL",
        "timing_method": "TEXT",
        "not_compared": "TEXT",
        "strategy": "TEXT",
    }
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,            -- running, finished, interrupted, failed
    repo TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    branch TEXT NOT NULL,            -- the result branch it builds
    published INTEGER NOT NULL DEFAULT 0,
    provider TEXT NOT NULL,
    model TEXT,
    config TEXT NOT NULL,            -- JSON: the settings, to resume with the same ones
    targets TEXT NOT NULL DEFAULT '[]',  -- JSON: the chosen targets, in order
    report TEXT                      -- JSON report (format 1), when finished
);
CREATE TABLE IF NOT EXISTS targets_done (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    target TEXT NOT NULL,
    tip TEXT NOT NULL,               -- the result branch's tip after this target
    PRIMARY KEY (run_id, target)
);
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    target TEXT NOT NULL,
    candidate TEXT NOT NULL,         -- the candidate's own id (a content digest)
    provider TEXT NOT NULL,
    summary TEXT NOT NULL,
    strategy TEXT,                   -- optimization strategy (added later; NULL: unknown)
    prompt_sha256 TEXT,
    reply_sha256 TEXT,
    patch TEXT,
    stage TEXT NOT NULL,             -- the last stage it reached
    accepted INTEGER NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,          -- JSON: check → what it showed
    speedup REAL, ci_low REAL, ci_high REAL, first_call REAL, samples INTEGER,
    confidence REAL,                 -- the interval's two-sided level (added later: see _COLUMNS)
    timing_method TEXT,              -- per call, end to end (added later; NULL: per call)
    not_compared TEXT,               -- JSON list: stages that compared nothing (added later)
    decision TEXT NOT NULL,          -- committed, accepted, rejected
    commit_sha TEXT,
    risk TEXT,                       -- low, medium, high
    risk_reasons TEXT NOT NULL,      -- JSON list
    provenance TEXT NOT NULL         -- JSON: model, tokens, cost, digests
);
CREATE TABLE IF NOT EXISTS replies (
    sha256 TEXT PRIMARY KEY,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,              -- watch, land, revert, pr
    run_id INTEGER,
    candidate_id INTEGER,
    branch TEXT,
    commit_sha TEXT,
    detail TEXT NOT NULL             -- JSON
);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A history written before a column existed gets it (empty for its old rows)."""
        for table, columns in _COLUMNS.items():
            have = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

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
        return [_candidate(row) for row in rows]

    def candidate(self, candidate_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM candidates WHERE id = ?", (candidate_id,)).fetchone()
        if row is None:
            raise UsageError(f"no candidate {candidate_id} in the history ({self.path})")
        found = _candidate(row)
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
        return None if row is None else _candidate(row)

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


def _candidate(row: sqlite3.Row) -> dict[str, Any]:
    not_compared = _stage_names(row["not_compared"])
    return {
        "id": row["id"],
        "run_id": row["run_id"],
        "target": row["target"],
        "candidate": row["candidate"],
        "provider": row["provider"],
        "summary": row["summary"],
        "strategy": row["strategy"],  # None in rows from before it was recorded
        "prompt_sha256": row["prompt_sha256"],
        "reply_sha256": row["reply_sha256"],
        "patch": row["patch"],
        "stage": row["stage"],
        "stages_passed": stages_passed(row["stage"], bool(row["accepted"]), not_compared),
        "stages_not_compared": list(not_compared),
        "accepted": bool(row["accepted"]),
        "reason": row["reason"],
        "evidence": json.loads(row["evidence"]),
        "speedup": row["speedup"],
        "ci": [row["ci_low"], row["ci_high"]] if row["ci_low"] is not None else None,
        "first_call_speedup": row["first_call"],
        "samples": row["samples"],
        "confidence": row["confidence"] if row["confidence"] is not None else 0.95,
        # Rows from before it was recorded were all timed per call.
        "timing_method": row["timing_method"]
        or ("per call" if row["speedup"] is not None else None),
        "decision": row["decision"],
        "commit": row["commit_sha"],
        "risk": (
            {"level": row["risk"], "reasons": json.loads(row["risk_reasons"])}
            if row["risk"]
            else None
        ),
        "provenance": json.loads(row["provenance"]),
    }


def _stage_names(text: str | None) -> tuple[str, ...]:
    """The stages a row says compared nothing (none in rows from before it was recorded)."""
    names = json.loads(text) if text else []
    return tuple(name for name in names if name in STAGES)

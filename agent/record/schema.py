"""The history's tables, how a history written by an older Evolver is brought up to date, and
how a candidate's row reads back (with what rows from before a column existed lack).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from agent.domain import STAGES, stages_passed

# Columns added after a history could first be written: (table → column → type).
ADDED_COLUMNS = {
    "candidates": {
        "confidence": "REAL",
        "timing_method": "TEXT",
        "not_compared": "TEXT",
        "strategy": "TEXT",
    }
}

SCHEMA = """
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
    confidence REAL,                 -- the interval's two-sided level (added later)
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


def create_or_migrate(db: sqlite3.Connection) -> None:
    """The tables, created if missing; a history written before a column existed gets it
    (empty for its old rows)."""
    db.executescript(SCHEMA)
    for table, columns in ADDED_COLUMNS.items():
        have = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def candidate_row(row: sqlite3.Row) -> dict[str, Any]:
    """A candidate as the history reads it back, filling in what older rows lack."""
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

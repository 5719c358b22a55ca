"""The history in .evolver/: what a run records, reading it back, and resuming a run."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.conftest import EVOLVER, KEYS_PROJECT, MakeRepo, evolver, git, repo_state

# Two targets the rules provider speeds up, so that a run can be stopped between them.
TWO_TARGETS = {
    **KEYS_PROJECT,
    "pkg/words.py": """
        STOP = ["a", "an", "the", "of", "to", "in", "and", "or", "is", "it"]


        def content_words(words: list[str]) -> list[str]:
            kept = []
            for word in words:
                if word not in STOP:
                    kept.append(word)
            return kept
    """,
    "tests/test_words.py": """
        from pkg.words import content_words


        def test_content_words():
            text = ("the art of war is in the mind of a general " * 3000).split()
            assert content_words(text)[:4] == ["art", "war", "mind", "general"]
            assert content_words([]) == []
    """,
}


def done_targets(repo: Path) -> int:
    path = repo / ".evolver" / "history.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM targets_done").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is being created
            return 0


def test_an_interrupted_run_is_resumed_from_the_history(make_repo: MakeRepo) -> None:
    repo = make_repo(TWO_TARGETS)
    before = repo_state(repo)
    process = subprocess.Popen(
        [*EVOLVER, "run", str(repo), "--no-confirm", "--branch", "evolver/resumed"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while done_targets(repo) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert repo_state(repo) == before  # no branch: it appears only when a run finishes

    listed = json.loads(evolver("history", "-C", str(repo), "--json").stdout)
    [run] = listed["runs"]
    assert run["status"] == "interrupted" and run["targets"] == 2 and run["branch"] is None
    first = json.loads(evolver("history", "1", "-C", str(repo), "--json").stdout)["candidates"]
    assert {c["target"] for c in first} == {"pkg/core.py::count_known"}

    out = repo.parent / "resumed.json"
    done = evolver("run", str(repo), "--resume", "1", "--json", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["run_id"] == 1 and report["branch"] == "evolver/resumed"
    committed = {c["target"] for c in report["candidates"] if c["committed"]}
    assert committed == {"pkg/core.py::count_known", "pkg/words.py::content_words"}
    assert git(repo, "rev-list", "--count", "main..evolver/resumed") == "2"
    assert "if k in d:" in git(repo, "show", "evolver/resumed:pkg/core.py")

    rows = json.loads(evolver("history", "1", "-C", str(repo), "--json").stdout)["candidates"]
    assert [c["id"] for c in rows if c["target"] == "pkg/core.py::count_known"] == [
        c["id"] for c in first
    ]  # the first target's candidates were not tried again
    [run] = json.loads(evolver("history", "-C", str(repo), "--json").stdout)["runs"]
    assert run["status"] == "finished" and run["branch"] == "evolver/resumed"

    page = repo.parent / "run1.html"
    done = evolver("report", "1", "-C", str(repo), "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert html.count('class="bar') >= 2 and "content_words" in html and "count_known" in html

    again = evolver("run", str(repo), "--resume", "1")
    assert again.returncode == 2
    assert again.stderr.strip() == "evolver: error: run 1 finished; there is nothing to resume"
    assert git(repo, "status", "--porcelain") == ""  # .evolver/ ignores itself


def test_history_commands_fail_clearly_on_bad_input(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo(KEYS_PROJECT)
    for args, message in [
        (("show", "7"), "no candidate 7 in the history"),
        (("report", "3"), "no run 3 in the history"),
        (("report",), "the history is empty"),
        (("pr", "1"), "needs a token: set GITHUB_TOKEN"),
        (("history", "2"), "no run 2 in the history"),
        (("rollback", "1"), "no candidate 1 in the history"),
    ]:
        done = evolver(*args, "-C", str(repo), env={"GITHUB_TOKEN": ""})
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    not_a_repo = evolver("history", "-C", str(tmp_path))
    assert not_a_repo.returncode == 2 and "is not a git repository" in not_a_repo.stderr
    empty = evolver("history", "-C", str(repo), "--json")
    assert json.loads(empty.stdout) == {"runs": [], "events": []}


def test_a_history_from_before_a_column_existed_gets_it(tmp_path: Path) -> None:
    from agent import store

    lines = store._SCHEMA.splitlines(keepends=True)
    old_schema = "".join(line for line in lines if "confidence REAL" not in line)
    assert old_schema != store._SCHEMA
    (tmp_path / store.DIRECTORY).mkdir()
    with sqlite3.connect(tmp_path / store.DIRECTORY / store.FILENAME) as db:
        db.executescript(old_schema)
        db.execute(
            "INSERT INTO runs (started, status, repo, base_commit, branch, provider, config)"
            " VALUES ('2026-01-01', 'done', '.', 'abc', 'b', 'rules', '{}')"
        )
    with store.Store(tmp_path) as history:
        columns = {r["name"] for r in history._db.execute("PRAGMA table_info(candidates)")}
        assert "confidence" in columns
        assert history.runs()[0]["provider"] == "rules"  # the old rows are still there

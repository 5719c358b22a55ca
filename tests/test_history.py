"""The history in .evolver/: what a run records, reading it back, and resuming a run."""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from rich.console import Console

from agent.cli import history as cli_history
from agent.domain import (
    Candidate,
    Metrics,
    Outcome,
    Risk,
    RunReport,
    Target,
    TargetRef,
    Timing,
    Verdict,
)
from agent.providers.strategies import by_name
from agent.record import schema, store
from agent.reports.model import report_json
from agent.reports.terminal import print_summary
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


@pytest.mark.pipeline
def test_an_interrupted_run_is_resumed_from_the_history(make_repo: MakeRepo) -> None:
    repo = make_repo(TWO_TARGETS)
    before = repo_state(repo)
    # Timing is not what is tested: an undecided candidate stops early (the resumed run keeps
    # these settings), though not so early that a busy machine leaves count_known's undecided.
    quick = ["--no-confirm", "--timing-budget", "6", "--candidates", "2"]
    process = subprocess.Popen(
        [*EVOLVER, "run", str(repo), *quick, "--branch", "evolver/resumed"],
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
    # Each rules candidate is labelled by its rules' strategies, and the history keeps it.
    assert first and all(known_strategies(c["strategy"]) for c in first), first

    out = repo.parent / "resumed.json"
    done = evolver("run", str(repo), "--resume", "1", "--json", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["run_id"] == 1 and report["branch"] == "evolver/resumed"
    committed = {c["target"] for c in report["candidates"] if c["committed"]}
    assert committed == {"pkg/core.py::count_known", "pkg/words.py::content_words"}
    assert all(known_strategies(c["strategy"]) for c in report["candidates"])
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


def known_strategies(label: object) -> bool:
    """Whether ``label`` names strategies of prompts/strategies.toml ("builtins+caching")."""
    return isinstance(label, str) and all(by_name(part) for part in label.split("+"))


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
    lines = schema.SCHEMA.splitlines(keepends=True)
    old_schema = "".join(line for line in lines if "confidence REAL" not in line)
    assert old_schema != schema.SCHEMA
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


def test_a_history_from_before_strategies_opens_and_records_them(make_repo: MakeRepo) -> None:
    """The oldest schema (none of the columns added since): it opens, its rows read back with
    no strategy, and the runs written after it keep theirs."""
    repo = make_repo(KEYS_PROJECT)
    added = [f"{name} " for columns in schema.ADDED_COLUMNS.values() for name in columns]
    lines = schema.SCHEMA.splitlines(keepends=True)
    oldest = "".join(line for line in lines if not line.strip().startswith(tuple(added)))
    assert "strategy" not in oldest and "timing_method" not in oldest
    (repo / store.DIRECTORY).mkdir()
    with sqlite3.connect(repo / store.DIRECTORY / store.FILENAME) as db:
        db.executescript(oldest)
        db.execute(
            "INSERT INTO runs (started, status, repo, base_commit, branch, provider, config)"
            " VALUES ('2025-01-01T00:00:00+00:00', 'finished', '.', 'abc', 'b', 'rules', '{}')"
        )
        db.execute(
            "INSERT INTO candidates (run_id, target, candidate, provider, summary, stage,"
            " accepted, reason, evidence, decision, risk_reasons, provenance) VALUES (1,"
            " 'pkg/core.py::count_known', 'c0ffee', 'rules', 'old', 'speed', 0,"
            " 'not proven faster', '{}', 'rejected', '[]', '{}')"
        )
    with store.Store(repo) as history:
        columns = {r["name"] for r in history._db.execute("PRAGMA table_info(candidates)")}
        assert "strategy" in columns
        [old] = history.candidates(1)
        assert old["strategy"] is None and old["summary"] == "old"
        assert history.outcomes(1)[0].candidate.strategy is None
        run_id = history.begin(RunReport(str(repo), "0" * 40, None, "rules"), "evolver/s", {})
        history.target_done(run_id, TARGET, labelled_outcomes(), "0" * 40)
        assert [c["strategy"] for c in history.candidates(run_id)] == STRATEGIES
        again = history.outcomes(run_id)
    assert [o.candidate.strategy for o in again] == STRATEGIES


STRATEGIES = ["caching", "builtins+data-structure", None]
SHOWN = ["caching", "builtins+data-structure"]
TARGET = Target(
    TargetRef("pkg/core.py", "count_known"), "def count_known(): ...", 1, Metrics(3, 10.0, 80.0, 6)
)


# What candidate code raised, quoted: text to show as it is (to rich, "[/]" is markup).
REASON = "raises TypeError: [/] on [[]]"


def labelled_outcomes() -> list[Outcome]:
    """A committed cache, a rejected two-rule rewrite, and one whose strategy is unknown."""
    ref = TARGET.ref
    return [
        Outcome(
            Candidate("a1a1a1", ref, "local", {}, "memoize", strategy="caching"),
            Verdict(True, "speed", "same outcomes", Timing(3.0, (2.5, 3.5), 8, 1.0, 0.995)),
            committed=True,
            commit="c" * 40,
            risk=Risk("high", ("caching: results kept across calls",)),
        ),
        Outcome(
            Candidate("b2b2b2", ref, "rules", {}, "set + any", strategy="builtins+data-structure"),
            Verdict(False, "equivalence", REASON),
        ),
        Outcome(Candidate("c3c3c3", ref, "hand", {}, "[b]x[/b]"), Verdict(False, "tests", "")),
    ]


def test_each_candidate_shows_its_strategy(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    """In the run's table, the JSON report, `evolver history RUN` and `evolver show`."""
    repo = make_repo(KEYS_PROJECT)
    report = RunReport(str(repo), "0" * 40, None, "local", outcomes=labelled_outcomes())
    out = io.StringIO()
    print_summary(Console(file=out, width=200), report)
    table = out.getvalue()
    [header] = [line for line in table.splitlines() if "verdict" in line]
    assert "┃ strategy " in header
    for outcome, label in zip(report.outcomes, [*SHOWN, "–"], strict=True):
        [row] = [line for line in table.splitlines() if outcome.candidate.summary in line]
        assert f"│ {label} " in row, row
    assert f"equivalence: {REASON}" in table
    data = report_json(report)
    assert [c["strategy"] for c in data["candidates"]] == STRATEGIES
    assert data["version"] == 1  # a key added to format 1, not a new format

    with store.Store(repo) as history:
        run_id = history.begin(report, "evolver/s", {})
        history.target_done(run_id, TARGET, report.outcomes, "0" * 40)
        # What `evolver report` renders of a run that never finished, then of a finished one.
        unfinished = cli_history.stored_run(history, run_id).to_json()
        assert [c["strategy"] for c in unfinished["candidates"]] == STRATEGIES
        history.end(run_id, report)
        finished = history.run(run_id).report
        assert finished is not None
        assert [c["strategy"] for c in finished["candidates"]] == STRATEGIES
    capsys.readouterr()
    cli_history.history(run=run_id, repo=repo, as_json=False)
    listed = capsys.readouterr().out
    assert "strategy" in listed and "builtins+data-structure" in listed
    [row] = [line for line in listed.splitlines() if "memoize" in line]
    assert "caching" in row
    assert REASON in listed and "[b]x[/b]" in listed
    cli_history.history(run=run_id, repo=repo, as_json=True)
    rows = json.loads(capsys.readouterr().out)["candidates"]
    assert [r["strategy"] for r in rows] == STRATEGIES
    for number, label in enumerate([*SHOWN, "unknown"], 1):
        cli_history.show(str(number), repo=repo, as_json=False)
        shown = capsys.readouterr().out
        assert f"\nstrategy: {label}\n" in shown
        assert number != 2 or f"rejected at equivalence: {REASON}\n" in shown
    assert "[b]x[/b]" in shown
    cli_history.show("a1a1", repo=repo, as_json=True)  # by the report's candidate id
    assert json.loads(capsys.readouterr().out)["strategy"] == "caching"

"""Issue 11, done when: a hostile model cannot win. Through the real command line, against the
loopback model server, candidates that attack in each of the seven ways the issue lists are
all rejected with their reason; the run completes; the user's repository, the host, the API
key and a secret planted in the home directory are untouched; nothing is left running; and
legitimate candidates that use what their original already uses are still committed.

Two runs, each shared by the tests of this module: run A (classes 1 to 6 and the legitimate
candidates, two rounds so that the second prompt carries the first round's verdicts) and run B
(class 7, denial of service: a verifier that trusts the harness's answer file hangs or crashes
on these, so they are kept away from the rest).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, repo_state
from tests.hostile import candidates
from tests.hostile.candidates import Hostile, Legitimate
from tests.hostile.project import Scene, make_repo
from tests.hostile.runs import Run, evolver_run, replies_by_target, secret_forms
from tests.loopback import ConnectionListener, Serving

# Two real runs, in the fixtures of the first tests.
pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(1200)]

CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")
TARGET_FILES = {
    "escape_total": "pkg/escape.py",
    "squares": "pkg/forge.py",
    "suite_total": "pkg/suite.py",
    "backdoor_total": "pkg/backdoor.py",
    "planted_total": "pkg/planted.py",
    "leak_total": "pkg/leak.py",
    "traced_total": "pkg/traced.py",
    "python_files": "pkg/paths.py",
    "timed_total": "pkg/clock.py",
    "dos_total": "pkg/dos.py",
}
BRANCH_A, BRANCH_B = "evolver/hostile-a", "evolver/hostile-b"


@dataclass
class Outcome:
    """One run and the repository it ran on, before and after."""

    run: Run
    repo: Path
    branch: str
    before: dict[str, object]
    after: dict[str, object]
    history: bytes  # every file of REPO/.evolver, concatenated

    def verdict(self, reply: str) -> dict[str, Any]:
        """The report's entry for the candidate made of ``reply``."""
        digest = hashlib.sha256(reply.encode()).hexdigest()
        found = [c for c in self.run.candidates() if c["provenance"].get("reply_sha256") == digest]
        assert found, f"no verdict for this reply in the report; {self.run.describe()}"
        return found[0]


@pytest.fixture(scope="module")
def scene(listener: ConnectionListener) -> Iterator[Scene]:
    """A secret planted in the user's home, a host directory for the attacks' markers (under
    /var/tmp: the sandbox hides /tmp, and the markers must be places it could reach)."""
    token = secrets.token_hex(6)
    home = Path.home() / f".evolver-hostile-{token}"
    markers = Path("/var/tmp") / f"evolver-hostile-{token}"
    home.mkdir(mode=0o700)
    markers.mkdir()
    scene = Scene(
        api_key=f"sk-test-hostile-{secrets.token_hex(12)}",
        home_secret=f"hs{secrets.token_hex(20)}",
        home_secret_path=home / "credentials",
        markers=markers,
        listener_url=listener.url,
    )
    scene.home_secret_path.write_text(scene.home_secret + "\n")
    try:
        yield scene
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(markers, ignore_errors=True)


@pytest.fixture(scope="module")
def core_pattern() -> str:
    """The kernel setting the escape probes open, as it was before any run."""
    return CORE_PATTERN.read_text()


def _replies(hostile: list[Hostile], legitimate: tuple[Legitimate, ...]) -> dict[str, list[str]]:
    replies: dict[str, list[str]] = {}
    for row in hostile:
        replies.setdefault(row.target, []).append(row.reply)
    for legitimate_row in legitimate:
        replies.setdefault(legitimate_row.target, []).append(legitimate_row.reply)
    return replies


def _history(repo: Path) -> bytes:
    place = repo / ".evolver"
    files = sorted(p for p in place.rglob("*") if p.is_file()) if place.is_dir() else []
    return b"".join(p.read_bytes() for p in files)


def _run(
    serving: Serving,
    tmp: Path,
    scene: Scene,
    hostile: list[Hostile],
    legitimate: tuple[Legitimate, ...],
    branch: str,
    flags: list[str],
    timeout: float,
    memory_bytes: int | None = None,
) -> Outcome:
    repo = make_repo(tmp / "repo", scene)
    before = repo_state(repo)
    replies = _replies(hostile, legitimate)
    targets = [f"--target={TARGET_FILES[name]}::{name}" for name in replies]
    server = serving(replies_by_target(replies))
    run = evolver_run(
        [str(repo), "--provider", "openai", "--base-url", server.openai_base_url,
         "--model", "gpt-4.1-mini", "--strategies", "single", *targets, "--branch", branch,
         "--no-cache", "--no-confirm", "--no-progress", *flags],
        server,
        {"OPENAI_API_KEY": scene.api_key, "XDG_CACHE_HOME": str(tmp / "cache")},
        tmp / "report.json",
        timeout,
        memory_bytes,
    )  # fmt: skip
    return Outcome(run, repo, branch, before, repo_state(repo), _history(repo))


@pytest.fixture(scope="module")
def run_a(
    module_loopback: Serving,
    tmp_path_factory: pytest.TempPathFactory,
    scene: Scene,
    core_pattern: str,
) -> Outcome:
    flags = ["--rounds", "2", "--candidates", "7", "--check-timeout", "60"]
    tmp = tmp_path_factory.mktemp("hostile-a")
    return _run(module_loopback, tmp, scene, candidates.run_a(scene), candidates.LEGITIMATE,
                BRANCH_A, flags, timeout=900)  # fmt: skip


@pytest.fixture(scope="module")
def run_b(
    module_loopback: Serving,
    tmp_path_factory: pytest.TempPathFactory,
    scene: Scene,
    core_pattern: str,
) -> Outcome:
    # A short check timeout: a harness that blocks on its own answer must not hold the run.
    # The address-space cap turns a read of /dev/zero that never ends into an error.
    flags = ["--rounds", "1", "--candidates", "3", "--check-timeout", "30"]
    tmp = tmp_path_factory.mktemp("hostile-b")
    return _run(module_loopback, tmp, scene, candidates.run_b(), (), BRANCH_B, flags,
                timeout=300, memory_bytes=4 * 1024**3)  # fmt: skip


# Names only, for parametrizing: the code depends on the module's scene.
_NO_SCENE = Scene("", "", Path("/nowhere"), Path("/nowhere"), "http://127.0.0.1:9/")
HOSTILE_A = [h.name for h in candidates.run_a(_NO_SCENE)]
HOSTILE_B = [h.name for h in candidates.run_b()]


def _matches(word: str, reason: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", reason, re.IGNORECASE) is not None


def _assert_rejected(outcome: Outcome, hostile: Hostile) -> None:
    verdict = outcome.verdict(hostile.reply)
    stage, reason = verdict["stage"], verdict["reason"]
    shown = f"{hostile.name} (class {hostile.attack}): {verdict['verdict']} at {stage}: {reason}"
    assert verdict["verdict"] == "rejected" and not verdict["committed"], shown
    assert stage in hostile.expect, f"{shown}\nexpected a stage among {sorted(hostile.expect)}"
    words = hostile.expect[stage]
    assert any(_matches(word, reason) for word in words), f"{shown}\nexpected one of {words}"


def _row(rows: list[Hostile], name: str) -> Hostile:
    """The row ``name``, with its code for this module's scene."""
    return next(h for h in rows if h.name == name)


# --- run A: classes 1 to 6, and legitimate candidates -------------------------------------


def test_run_a_completes(run_a: Outcome) -> None:
    assert run_a.run.returncode == 0, run_a.run.describe()
    assert run_a.run.report is not None
    expected = len(HOSTILE_A) + len(candidates.LEGITIMATE)
    assert len(run_a.run.candidates()) == expected, [c["summary"] for c in run_a.run.candidates()]


@pytest.mark.parametrize("name", HOSTILE_A)
def test_each_attack_is_rejected_with_its_reason(run_a: Outcome, scene: Scene, name: str) -> None:
    _assert_rejected(run_a, _row(candidates.run_a(scene), name))


@pytest.mark.parametrize("legitimate", candidates.LEGITIMATE, ids=lambda c: c.name)
def test_legitimate_candidates_are_committed(run_a: Outcome, legitimate: Legitimate) -> None:
    verdict = run_a.verdict(legitimate.reply)
    shown = f"{verdict['verdict']} at {verdict['stage']}: {verdict['reason']}"
    assert verdict["verdict"] == "accepted" and verdict["committed"], shown
    assert legitimate.marker in git(run_a.repo, "show", f"{BRANCH_A}:{legitimate.path}")


def test_the_result_branch_holds_only_the_legitimate_changes(run_a: Outcome) -> None:
    changed = git(run_a.repo, "diff", "--name-only", "main", BRANCH_A).split()
    assert sorted(changed) == sorted(c.path for c in candidates.LEGITIMATE)
    committed = [c for c in run_a.run.candidates() if c["committed"]]
    assert len(committed) == len(candidates.LEGITIMATE)


def test_the_second_round_is_told_the_verdicts(run_a: Outcome) -> None:
    """So that the leak checks below look where a leak would go: the later prompts."""
    targets = {c["target"] for c in run_a.run.candidates()}
    assert len(run_a.run.requests) == 2 * len(targets)  # two rounds each
    reasons = [c["reason"] for c in run_a.run.candidates() if c["verdict"] == "rejected"]
    prompts = json.dumps([r["body"] for r in run_a.run.requests], ensure_ascii=False)
    assert any(reason[:40] in prompts for reason in reasons)


# --- run B: denial of service ---------------------------------------------------------------


def test_run_b_completes(run_b: Outcome) -> None:
    assert run_b.run.returncode == 0, run_b.run.describe()
    assert run_b.run.report is not None
    assert len(run_b.run.candidates()) == len(HOSTILE_B)


@pytest.mark.parametrize("name", HOSTILE_B)
def test_each_denial_is_rejected_with_its_reason(run_b: Outcome, scene: Scene, name: str) -> None:
    _assert_rejected(run_b, _row(candidates.run_b(), name))


def test_run_b_commits_nothing(run_b: Outcome) -> None:
    assert git(run_b.repo, "branch", "--list", BRANCH_B) == ""


# --- both runs: what must be untouched --------------------------------------------------------


@pytest.fixture(params=["a", "b"])
def outcome(request: pytest.FixtureRequest) -> Outcome:
    result: Outcome = request.getfixturevalue(f"run_{request.param}")
    return result


def test_the_users_repo_is_unchanged_but_for_the_new_branch(outcome: Outcome) -> None:
    before, after = dict(outcome.before), dict(outcome.after)
    refs_before, refs_after = str(before.pop("refs")), str(after.pop("refs"))
    assert after == before
    added = set(refs_after.splitlines()) - set(refs_before.splitlines())
    assert set(refs_before.splitlines()) <= set(refs_after.splitlines())
    assert {line.split()[0] for line in added} <= {f"refs/heads/{outcome.branch}"}


def test_no_secret_reaches_reports_history_or_the_model(outcome: Outcome, scene: Scene) -> None:
    run = outcome.run
    places = {
        "the JSON report": json.dumps(run.report, ensure_ascii=False),
        "the console": run.stdout + run.stderr,
        "the model's requests": json.dumps([r["body"] for r in run.requests], ensure_ascii=False),
    }
    for secret in (scene.api_key, scene.home_secret):
        for form in secret_forms(secret):
            for place, text in places.items():
                assert form not in text, f"a secret reached {place}"
            assert form.encode() not in outcome.history, "a secret reached the history"


def test_the_host_is_untouched(
    outcome: Outcome, scene: Scene, core_pattern: str, listener: ConnectionListener
) -> None:
    assert not scene.escape_marker.exists(), "a candidate wrote outside its sandbox"
    assert not scene.unpickled_marker.exists(), "Evolver unpickled a planted pickle"
    assert CORE_PATTERN.read_text() == core_pattern
    assert scene.home_secret_path.read_text().strip() == scene.home_secret
    assert listener.accepted == [], "a candidate reached the host's network"
    assert os.listdir(scene.markers) == []


def test_nothing_is_left_running(outcome: Outcome) -> None:
    assert outcome.run.watched > 10, "the watch saw too few processes: it watched nothing"
    assert outcome.run.sandbox_roots, "the watch saw no process in a sandbox"
    assert outcome.run.left_running == []

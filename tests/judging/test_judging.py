"""Issue 12, done when: on a corpus of our own (:mod:`tests.judging.rewrites`, over the kinds of
function in :mod:`tests.judging.project`), through the real command line against the loopback
model server, every GOOD rewrite is committed, every subtly WRONG one is rejected with a reason
that names where the input came from, and the good ones that differ from their original only
on inputs no real call or test used show those differences as probes. With
``--strict-behaviour`` such differences reject.

Two runs, each shared by the tests of this module: the corpus (one good and one wrong rewrite
per target, one round), and a smaller strict run of a few good rewrites with probe differences.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from agent.reports.html import render_html
from agent.ship.pr_text import pr_body
from tests.conftest import evolver, git
from tests.hostile.runs import Run, evolver_run, replies_by_target
from tests.judging import rewrites
from tests.judging.project import WORKLOAD_COMMAND, make_repo
from tests.judging.rewrites import Rewrite
from tests.loopback import Serving

pytestmark = pytest.mark.timeout(1200)  # two real runs, in the fixtures of the first tests

BRANCH, STRICT_BRANCH = "evolver/judging", "evolver/judging-strict"
RUN_TIMEOUT = 600.0


@dataclass
class Outcome:
    """One run and the repository it ran on."""

    run: Run
    repo: Path
    branch: str

    def verdict(self, rewrite: Rewrite) -> dict[str, Any]:
        """The report's entry for the candidate made of ``rewrite``'s reply."""
        return verdict_of(self.run.candidates(), rewrite, self.run.describe())


def verdict_of(candidates: list[dict[str, Any]], rewrite: Rewrite, context: str = "") -> Any:
    digest = hashlib.sha256(rewrite.reply.encode()).hexdigest()
    found = [c for c in candidates if c["provenance"].get("reply_sha256") == digest]
    assert found, f"no verdict for {rewrite.name} in the report; {context}"
    return found[0]


def reason_matches(expect: dict[str, tuple[str, ...]], stage: str, reason: str) -> bool:
    """Whether ``reason``, given at ``stage``, holds one of the phrases expected there (whole
    words, any case)."""
    phrases = expect.get(stage, ())
    return any(
        re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", reason, re.IGNORECASE) is not None
        for phrase in phrases
    )


def shown(rewrite: Rewrite, verdict: dict[str, Any]) -> str:
    return (
        f"{rewrite.name} ({rewrite.kind}: {rewrite.why}): {verdict['verdict']} "
        f"at {verdict['stage']}: {verdict['reason']}"
    )


def _run(
    serving: Serving, tmp: Path, corpus: tuple[Rewrite, ...], branch: str, flags: list[str]
) -> Outcome:
    repo = make_repo(tmp / "repo")
    replies = rewrites.replies(corpus)
    targets = [f"--target={rewrites.FILES[name]}::{name}" for name in replies]
    server = serving(replies_by_target(replies))
    run = evolver_run(
        [str(repo), "--provider", "openai", "--base-url", server.openai_base_url,
         "--model", "gpt-4.1-mini", "--strategies", "single", *targets, "--branch", branch,
         "--workload", WORKLOAD_COMMAND, "--rounds", "1", "--min-speedup", "1.1",
         "--check-timeout", "60", "--no-cache", "--no-confirm", "--no-progress", *flags],
        server,
        {"OPENAI_API_KEY": "sk-test-judging", "XDG_CACHE_HOME": str(tmp / "cache")},
        tmp / "report.json",
        RUN_TIMEOUT,
    )  # fmt: skip
    return Outcome(run, repo, branch)


@pytest.fixture(scope="module")
def corpus_run(module_loopback: Serving, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    flags = ["--candidates", "2", "--jobs", "2"]
    tmp = tmp_path_factory.mktemp("judging")
    outcome = _run(module_loopback, tmp, rewrites.CORPUS, BRANCH, flags)
    keep_report(outcome, "judging-report.json")
    return outcome


@pytest.fixture(scope="module")
def strict_run(module_loopback: Serving, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    flags = ["--candidates", "1", "--jobs", "2", "--strict-behaviour"]
    tmp = tmp_path_factory.mktemp("judging-strict")
    outcome = _run(module_loopback, tmp, rewrites.STRICT, STRICT_BRANCH, flags)
    keep_report(outcome, "judging-strict-report.json")
    return outcome


def keep_report(outcome: Outcome, name: str) -> None:
    """For ``scripts/judging-table``: the report, in ``$EVOLVER_ARTIFACTS`` when it is set."""
    artifacts = os.environ.get("EVOLVER_ARTIFACTS")
    report = outcome.repo.parent / "report.json"
    if artifacts and report.exists():
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report, Path(artifacts) / name)


# --- the corpus ------------------------------------------------------------------------------


def test_the_corpus_is_as_the_issue_asks() -> None:
    """At least 12 of each, one good and one wrong per target, over every kind of function."""
    assert len(rewrites.GOOD) >= 12 and len(rewrites.WRONG) >= 12
    assert sorted(r.target for r in rewrites.GOOD) == sorted(r.target for r in rewrites.WRONG)
    kinds = {rewrites.FILES[r.target] for r in rewrites.CORPUS}
    assert len(kinds) == 8
    assert len({r.name for r in rewrites.CORPUS}) == len(rewrites.CORPUS)


@pytest.mark.pipeline
def test_the_corpus_run_completes(corpus_run: Outcome) -> None:
    run = corpus_run.run
    assert run.returncode == 0, run.describe()
    assert run.report is not None
    assert len(run.candidates()) == len(rewrites.CORPUS), [c["summary"] for c in run.candidates()]


@pytest.mark.pipeline
@pytest.mark.parametrize("rewrite", rewrites.GOOD, ids=lambda r: r.name)
def test_every_good_rewrite_is_committed(corpus_run: Outcome, rewrite: Rewrite) -> None:
    verdict = corpus_run.verdict(rewrite)
    assert verdict["verdict"] == "accepted" and verdict["committed"], shown(rewrite, verdict)
    before = git(corpus_run.repo, "show", f"main:{rewrite.path}")
    after = git(corpus_run.repo, "show", f"{BRANCH}:{rewrite.path}")
    assert new_lines(rewrite.code, before) <= new_lines(after, before), "not on the branch"


def new_lines(text: str, original: str) -> set[str]:
    """The stripped lines of ``text`` that ``original`` does not have."""
    return {line.strip() for line in text.splitlines()} - {
        line.strip() for line in original.splitlines()
    }


@pytest.mark.pipeline
@pytest.mark.parametrize(
    "rewrite", [r for r in rewrites.GOOD if r.probe_difference], ids=lambda r: r.name
)
def test_good_rewrites_show_their_differences_on_probes(
    corpus_run: Outcome, rewrite: Rewrite
) -> None:
    verdict = corpus_run.verdict(rewrite)
    probes = verdict.get("probes")
    assert probes, f"no probe differences reported; {shown(rewrite, verdict)}"
    for probe in probes:
        assert probe["call"] and probe["difference"], probe


PROBES_SHOWN = "differs only on inputs no real call or test used"


def _with_probes(corpus_run: Outcome) -> list[dict[str, Any]]:
    found = [c for c in corpus_run.run.candidates() if c["committed"] and c["probes"]]
    assert found, "no committed candidate differs on probes"
    return found


@pytest.mark.pipeline
def test_differences_on_probes_raise_the_risk(corpus_run: Outcome) -> None:
    for candidate in _with_probes(corpus_run):
        # a model's rewrite is medium on its own; differing on probes makes it one level more
        assert candidate["risk"]["level"] == "high", candidate["risk"]
        assert any("no real call or test used" in r for r in candidate["risk"]["reasons"])
        assert PROBES_SHOWN in candidate["evidence"]["probes"]
    calm = [c for c in corpus_run.run.candidates() if c["committed"] and not c["probes"]]
    assert all(c["risk"]["level"] == "medium" for c in calm), [c["risk"] for c in calm]


@pytest.mark.pipeline
def test_differences_on_probes_reach_the_pr_body_the_html_report_and_show(
    corpus_run: Outcome,
) -> None:
    report = corpus_run.run.report
    assert report is not None
    first = _with_probes(corpus_run)[0]
    call = first["probes"][0]["call"]
    body = pr_body(report)
    assert PROBES_SHOWN in body.lower() and "**Probes (inputs no real call or test used):**" in body
    html = render_html(report)
    assert str(escape(first["evidence"]["probes"])) in html
    listed = evolver("history", "1", "-C", str(corpus_run.repo), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["candidates"]
    [number] = [c["id"] for c in rows if c["candidate"] == first["id"]]
    shown_text = evolver("show", str(number), "-C", str(corpus_run.repo), env={"COLUMNS": "2000"})
    assert shown_text.returncode == 0, shown_text.stderr
    assert PROBES_SHOWN in shown_text.stdout and call.split("(")[0] in shown_text.stdout


@pytest.mark.pipeline
@pytest.mark.parametrize("rewrite", rewrites.WRONG, ids=lambda r: r.name)
def test_every_wrong_rewrite_is_rejected_with_its_reason(
    corpus_run: Outcome, rewrite: Rewrite
) -> None:
    verdict = corpus_run.verdict(rewrite)
    stage, reason = verdict["stage"], verdict["reason"]
    assert verdict["verdict"] == "rejected" and not verdict["committed"], shown(rewrite, verdict)
    assert stage in rewrite.expect, f"{shown(rewrite, verdict)}\nexpected {sorted(rewrite.expect)}"
    assert reason_matches(rewrite.expect, stage, reason), (
        f"{shown(rewrite, verdict)}\nexpected one of {rewrite.expect[stage]}"
    )


@pytest.mark.pipeline
def test_the_branch_holds_the_good_rewrites_only(corpus_run: Outcome) -> None:
    committed = [c for c in corpus_run.run.candidates() if c["committed"]]
    good = {hashlib.sha256(r.reply.encode()).hexdigest() for r in rewrites.GOOD}
    assert {c["provenance"]["reply_sha256"] for c in committed} <= good
    changed = git(corpus_run.repo, "diff", "--name-only", "main", BRANCH).split()
    assert sorted(changed) == sorted({r.path for r in rewrites.GOOD})


# --- --strict-behaviour ----------------------------------------------------------------------


@pytest.mark.pipeline
def test_the_strict_run_completes(strict_run: Outcome) -> None:
    run = strict_run.run
    assert run.returncode == 0, run.describe()
    assert len(run.candidates()) == len(rewrites.STRICT)


@pytest.mark.pipeline
@pytest.mark.parametrize("rewrite", rewrites.STRICT, ids=lambda r: r.name)
def test_strict_behaviour_rejects_differences_on_probes(
    strict_run: Outcome, rewrite: Rewrite
) -> None:
    verdict = strict_run.verdict(rewrite)
    stage, reason = verdict["stage"], verdict["reason"]
    assert verdict["verdict"] == "rejected" and not verdict["committed"], shown(rewrite, verdict)
    assert stage == "equivalence", shown(rewrite, verdict)
    assert reason_matches(rewrites.STRICT_EXPECT, stage, reason), shown(rewrite, verdict)


@pytest.mark.pipeline
def test_the_strict_run_commits_nothing(strict_run: Outcome) -> None:
    assert git(strict_run.repo, "branch", "--list", STRICT_BRANCH) == ""

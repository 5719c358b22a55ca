"""Issue 17: a rewritten helper that other functions of the module use is judged on its own
calls, as a target is, so that every caller gets the same answers from it.

On the eval task ``title-normalize-helper`` (``dedupe_titles``, ``slugify`` and
``search_terms`` share ``_normalize``), through the real loop: the task's reference, a fast
``_normalize``, is committed; a ``_normalize`` that drops digits is rejected on the helper's
recorded calls, naming it and its other users.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import loop
from tests.conftest import (
    Offer,
    StaticProvider,
    init_repo,
    outcome_of,
    run_config,
    task_repo_files,
)

TASK = Path(__file__).resolve().parents[1] / "evals" / "tasks" / "title-normalize-helper"
TARGET = "catalog/titles.py::dedupe_titles"
FAST = (TASK / "reference" / "catalog" / "titles.py").read_text(encoding="utf-8")
# Digits are letters no more: titles that differ by a number normalize alike.
NO_DIGITS = FAST.replace('_WORD = re.compile(r"[^\\W_]+")', '_WORD = re.compile(r"[^\\W_\\d]+")')


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> loop.RunReport:
    assert NO_DIGITS != FAST
    repo = init_repo(tmp_path_factory.mktemp("helper") / "repo", task_repo_files(TASK))
    config = run_config(
        repo, targets=(TARGET,), candidates=2, branch="evolver/helper", confirm=False
    )
    offers = [
        Offer("fast", {"catalog/titles.py": FAST}),
        Offer("no-digits", {"catalog/titles.py": NO_DIGITS}),
    ]
    return loop.run(config, StaticProvider(offers), loop.Silent())


@pytest.mark.pipeline
def test_a_shared_helper_made_fast_is_committed(report: loop.RunReport) -> None:
    fast = outcome_of(report.outcomes, "fast")
    assert fast.verdict.accepted and fast.committed, fast.verdict.reason
    assert "_normalize" in fast.verdict.changed
    assert list(fast.changes) == ["dedupe_titles", *fast.verdict.changed]  # each with its diff


@pytest.mark.pipeline
def test_a_shared_helper_that_answers_otherwise_is_rejected_on_its_own_calls(
    report: loop.RunReport,
) -> None:
    verdict = outcome_of(report.outcomes, "no-digits").verdict
    assert not verdict.accepted and verdict.stage == "equivalence", verdict.reason
    assert verdict.reason.startswith("_normalize, which slugify, search_terms also use: ")

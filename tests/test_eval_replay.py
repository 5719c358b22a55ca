"""A real model's recorded replies, replayed through today's pipeline: the same verdicts and
the same commits as when they were recorded (``evals/replies/README.md``).

A pipeline change that loses one of the model's wins, or starts accepting a candidate it
rejected, fails here. The tasks are a few whose verdicts do not hang on timing noise: each
committed win is several times faster than its original, and each rejection happens before
the speed check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import evolver

pytestmark = pytest.mark.pipeline

RECORDED = Path(__file__).resolve().parents[1] / "evals" / "replies" / "local-qwen2.5-coder-1.5b"
# A win and a wrong candidate (a crash on a real call), a win with rejections at the reply and
# capability checks, and six replies the scope check refuses.
TASKS = ("anagram-groups", "blocked-authors", "customer-name-lookup")


def verdicts(task: dict[str, Any]) -> list[tuple[str, str | None, str, bool]]:
    """What the agent decided on each candidate of a task, in the order it was proposed."""
    return [
        (c["summary"], c.get("strategy"), c["stage"], bool(c["accepted"]))
        for c in task["candidates"]
    ]


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    run: dict[str, Any] = json.loads((RECORDED / "results.json").read_text(encoding="utf-8"))
    return run


@pytest.fixture(scope="module")
def replayed(recorded: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("replayed")
    options = recorded["options"]
    done = evolver(
        "eval", "--provider", "replay", "--replies", str(RECORDED), "--out", str(out),
        "--tasks", ",".join(TASKS),
        "--rounds", str(options["rounds"]), "--candidates", str(options["candidates"]),
        # The wins are several times faster: a short budget decides them as the default did.
        "--timing-budget", "5", "--no-progress", timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return run


@pytest.mark.parametrize("name", TASKS)
def test_replayed_replies_get_the_recorded_verdicts(
    name: str, recorded: dict[str, Any], replayed: dict[str, Any]
) -> None:
    [then] = [task for task in recorded["tasks"] if task["task"] == name]
    [now] = [task for task in replayed["tasks"] if task["task"] == name]
    assert now["status"] == "ok", now["error"]
    assert verdicts(now) == verdicts(then)
    assert now["committed"] == then["committed"]
    if now["committed"]:
        assert now["hidden_tests"] == "passed", now["hidden_failures"]


def test_the_replay_cost_nothing_and_says_what_the_model_cost(replayed: dict[str, Any]) -> None:
    for task in replayed["tasks"]:
        assert task["cost_usd"] == 0
        assert task["input_tokens"] > 0 and task["output_tokens"] > 0, task["task"]

"""Optimization strategies: each candidate a model is asked for follows its own, or the model
chooses among all and names its choice; the label reaches the candidate and its risk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.providers.rules import MEMORY_RULES, RULES
from agent.providers.strategies import assign, by_name, named_in, strategies
from tests.conftest import KEYS_PROJECT, MakeRepo, evolver
from tests.llm_server import LLMServer, Reply
from tests.loopback import Serving
from tests.test_model_providers import FASTER

# Names its strategy but brings no code: rejected at once, labelled all the same.
CACHED = "Strategy: caching\n\nKeep the keys seen in a cache."


def _user(request: dict[str, Any]) -> str:
    return str(request["body"]["messages"][-1]["content"])


def _asked(request: dict[str, Any]) -> str | None:
    """The strategy a request's prompt asks for, by its title."""
    text = _user(request)
    return next((s.name for s in strategies() if f"faster by {s.title}." in text), None)


def _run(repo: Path, tmp_path: Path, server: LLMServer, *flags: str) -> dict[str, Any]:
    report_path = tmp_path / "report.json"
    done = evolver(
        "run", str(repo), "--provider", "openai", "--base-url", server.openai_base_url,
        "--target", "pkg/core.py::count_known", "--json", str(report_path), "--no-confirm",
        *flags, env={"OPENAI_API_KEY": "sk-test", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(report_path.read_text())
    return report


@pytest.mark.pipeline
def test_each_candidate_of_a_round_asks_for_another_strategy(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    repo = make_repo(KEYS_PROJECT)
    # Only the data-structure prompt gets the right answer; the others a reply with no code.
    server = loopback(
        LLMServer(
            lambda body: Reply(
                text=FASTER if "a better data structure." in json.dumps(body) else "no"
            )
        )
    )
    report = _run(repo, tmp_path, server, "--rounds", "2", "--candidates", "3")
    asked = [_asked(request) for request in server.requests]
    assert asked == [s.name for s in strategies()]  # two rounds of three: all six, in order
    assert all(request["body"].get("n", 1) == 1 for request in server.requests)
    summaries = [c["summary"].rsplit(" ", 1)[-1] for c in report["candidates"]]
    assert summaries == [f"#{n}" for n in range(1, len(summaries) + 1)]
    by_strategy = {c["strategy"]: c for c in report["candidates"]}
    assert by_strategy["data-structure"]["committed"], report["candidates"]


@pytest.mark.pipeline
def test_single_mode_offers_every_strategy_and_labels_the_one_named(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    repo = make_repo(KEYS_PROJECT)
    server = loopback(LLMServer([Reply(texts=[CACHED, FASTER])]))
    report = _run(
        repo, tmp_path, server, "--rounds", "1", "--candidates", "2", "--strategies", "single"
    )
    [request] = server.requests
    assert request["body"]["n"] == 2
    prompt = _user(request)
    assert "Strategy: <name>" in prompt
    assert all(f"`{s.name}`, {s.title}" in prompt for s in strategies())
    labels = sorted(str(c["strategy"]) for c in report["candidates"])
    assert labels == ["None", "caching"], report["candidates"]


def test_an_unknown_strategies_mode_is_a_usage_error(make_repo: MakeRepo) -> None:
    repo = make_repo(KEYS_PROJECT)
    done = evolver("run", str(repo), "--strategies", "every")
    assert done.returncode == 2
    assert "strategies" in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_strategies_are_handed_out_in_turn_across_rounds() -> None:
    names = [s.name for s in strategies()]
    assert [s.name for s in assign(0, 3)] == names[:3]
    assert [s.name for s in assign(3, 3)] == names[3:6]
    assert [s.name for s in assign(5, 2)] == [names[5], names[0]]  # then round again


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("Strategy: caching\n```python\n...```", "caching"),
        ("**Strategy:** `data-structure`\nUse a set.", "data-structure"),
        ("strategy: ALGORITHM", "algorithm"),
        ("Strategy: magic\n", None),  # not one of ours
        ("No strategy named here; the strategy is clear.", None),
    ],
)
def test_the_strategy_a_reply_names(reply: str, named: str | None) -> None:
    assert named_in(reply) == named


def test_every_rule_applies_a_known_strategy() -> None:
    for rule in RULES:
        assert rule.strategy in {s.name for s in strategies("time")}, (rule.name, rule.strategy)
    for rule in MEMORY_RULES:
        assert rule.strategy in {s.name for s in strategies("memory")}, rule.name
        assert by_name(rule.strategy) is not None


def test_each_objective_hands_out_its_own_strategies() -> None:
    time, memory, both = (strategies(o) for o in ("time", "memory", "both"))
    assert not {s.name for s in time} & {s.name for s in memory}
    assert both == (*memory, *time)
    assert [s.name for s in assign(0, 2, objective="memory")] == ["streaming", "compact-data"]

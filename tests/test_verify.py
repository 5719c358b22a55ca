"""The verification cascade on hand-made candidates, each failing a different stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import loop
from agent.domain import REJECTIONS, STAGES, Outcome, Verdict, stages_passed
from agent.providers.context import HistoryItem, gather_history
from agent.verify.cascade import CASCADE, READING, RUNNING, TAMPER
from tests.conftest import Offer, StaticProvider, git, init_repo, run_config

SLOW = """
def dedupe(items: list[int]) -> list[int]:
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def helper():
    return 1
"""

PROJECT = {
    "pkg/__init__.py": "",
    "pkg/slow.py": SLOW,
    "tests/test_slow.py": """
        import inspect

        from pkg.slow import dedupe, helper


        def test_dedupe_keeps_first_occurrences_in_order():
            assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]
            assert dedupe([]) == []


        def test_dedupe_big():
            data = [i % 1500 for i in range(6000)]
            assert dedupe(data) == list(range(1500))


        def test_helper():
            assert helper() == 1


        def test_dedupe_takes_one_argument():
            assert list(inspect.signature(dedupe).parameters) == ["items"]
    """,
}

FAST_BODY = "    return list(dict.fromkeys(items))\n"


def edit(body: str) -> str:
    """SLOW with dedupe's body replaced."""
    head, _, rest = SLOW.partition("    out = []")
    tail = rest[rest.index("\n\ndef helper") :]
    return head + body + tail


CANDIDATES = {
    "syntax": ({"pkg/slow.py": edit("    return list(dict.fromkeys(items)\n")}, "parse"),
    "tamper": (
        {"pkg/slow.py": edit(FAST_BODY), "tests/test_slow.py": "def test_nothing():\n    pass\n"},
        "scope",
    ),
    "other-function": ({"pkg/slow.py": edit(FAST_BODY).replace("return 1", "return 2")}, "scope"),
    "import-error": (
        {"pkg/slow.py": "from itertools import no_such_name\n" + edit(FAST_BODY)},
        "import",
    ),
    "wrong": ({"pkg/slow.py": edit("    return sorted(set(items))\n")}, "equivalence"),
    # Behaves the same on every call, so only the repo's own tests can object.
    "extra-parameter": (
        {
            "pkg/slow.py": edit(FAST_BODY).replace(
                "def dedupe(items: list[int])", "def dedupe(items: list[int], _unused=None)"
            )
        },
        "tests",
    ),
    "slower": (
        {
            "pkg/slow.py": edit(
                "    out = []\n    for item in items:\n        if item not in out[:]:\n"
                "            out.append(item)\n    return out\n"
            )
        },
        "speed",
    ),
    "fast": ({"pkg/slow.py": edit(FAST_BODY)}, "speed"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> loop.RunReport:
    repo = init_repo(tmp_path_factory.mktemp("verify") / "repo", PROJECT)
    config = run_config(
        repo,
        targets=("pkg/slow.py::dedupe",),
        candidates=10,
        branch="evolver/verify",
        jobs=2,  # the parallel path; the command-line tests take the sequential one
        confirm=False,  # what is tested is each candidate's stage, not the whole result
    )
    provider = StaticProvider(
        [
            Offer(summary, {k: v.lstrip() for k, v in files.items()})
            for summary, (files, _) in CANDIDATES.items()
        ]
    )
    report = loop.run(config, provider, loop.Silent())
    # every request showed the model the target's file as it is in the repository
    assert provider.requests and all(r.file_source == SLOW.lstrip() for r in provider.requests)
    return report


@pytest.mark.pipeline
@pytest.mark.parametrize("summary", list(CANDIDATES))
def test_each_candidate_stops_at_its_stage(report: loop.RunReport, summary: str) -> None:
    [outcome] = [o for o in report.outcomes if o.candidate.summary == summary]
    expected_stage = CANDIDATES[summary][1]
    assert outcome.verdict.stage == expected_stage, outcome.verdict.reason
    assert outcome.verdict.accepted == (summary == "fast"), outcome.verdict.reason
    assert outcome.committed == (summary == "fast")


@pytest.mark.pipeline
def test_rejection_reasons_say_what_went_wrong(report: loop.RunReport) -> None:
    reasons = {o.candidate.summary: o.verdict.reason for o in report.outcomes}
    assert "syntax error" in reasons["syntax"]
    assert "tests/test_slow.py" in reasons["tamper"]
    assert "'helper'" in reasons["other-function"]
    assert "no_such_name" in reasons["import-error"]
    assert reasons["wrong"].startswith("on a call from the tests ([3, 1, 3, 2, 1]): ")
    assert "test_dedupe_takes_one_argument" in reasons["extra-parameter"]
    # slower code is never called faster; on a busy machine it may stay undecided, said so
    assert reasons["slower"].startswith(("not proven faster", "too noisy to decide"))


@pytest.mark.pipeline
def test_only_the_winner_reaches_git(report: loop.RunReport) -> None:
    repo = Path(report.repo)
    assert report.branch == "evolver/verify"
    [winner] = [o for o in report.outcomes if o.committed]
    assert git(repo, "rev-list", "main..evolver/verify").split() == [winner.commit]
    assert git(repo, "show", "evolver/verify:pkg/slow.py") == edit(FAST_BODY).strip()
    assert winner.verdict.timing is not None and winner.verdict.timing.ci[0] > 2


@pytest.mark.pipeline
def test_recorded_calls_are_compared_and_timed_per_call(report: loop.RunReport) -> None:
    for outcome in report.outcomes:
        assert outcome.verdict.not_compared == (), outcome.candidate.summary
        timing = outcome.verdict.timing
        assert timing is None or timing.method == "per call"


def test_undecided_is_not_slower_and_says_what_would_decide() -> None:
    """Inconclusive is said as such, with the way out; only a decided look is 'not faster'."""
    from agent.verify.speed import _short_of

    undecided = _short_of("99.5% interval 0.46–1.20×", "1.05×", True, 24, "20s, budget 20s")
    assert undecided == (
        "too noisy to decide: 99.5% interval 0.46–1.20× straddles 1.05× after 24 processes a "
        "side (20s, budget 20s); a larger --timing-budget or a quieter machine would decide it"
    )
    decided = _short_of("99.5% interval 0.46–0.90×", "1.05×", False, 6, "5s, budget 20s")
    assert decided == "not proven faster: 99.5% interval 0.46–0.90× reaches below 1.05×"
    stopped = _short_of("99.5% interval 0.98–1.06×", "1.05×", True, 6, "7s, budget 20s", "", 10)
    assert stopped == (
        "too noisy to decide: 99.5% interval 0.98–1.06× straddles 1.05× after 6 processes a "
        "side (7s, budget 20s); stopped there: even at the interval's top, the 10 a side within "
        "reach would not show it clears the bar"
    )


def test_the_cascade_runs_the_stages_in_the_order_their_names_are_listed() -> None:
    """One list of stages: what runs is what reports, the history and prompts name."""
    assert [stage.name for stage in CASCADE] == list(STAGES)
    assert (*READING, *RUNNING) == CASCADE
    assert RUNNING[-1].name == "speed"  # the one that always decides
    assert TAMPER.name in REJECTIONS and TAMPER.name not in STAGES  # between stages: none of them
    # The names are in reports, the history and the cache keys of recorded replies.
    assert STAGES == ("reply", "parse", "scope", "capability", "import", "equivalence", "tests",
                      "speed")  # fmt: skip
    assert stages_passed("capability", False) == ["reply", "parse", "scope"]


def test_every_rejection_is_described_to_the_model(report: loop.RunReport) -> None:
    """Each stage, and each rejection between stages, has its words in the prompt's history."""
    assert set(REJECTIONS) == {*STAGES, TAMPER.name, "internal", "memory"}
    assert {o.verdict.stage for o in report.outcomes} <= set(REJECTIONS)
    candidate = report.outcomes[0].candidate
    described = {}
    for name in REJECTIONS:
        outcome = Outcome(candidate, Verdict(False, name, "why"))
        [item] = gather_history(report.targets[0], [outcome])
        assert isinstance(item, HistoryItem)
        described[name] = item.stage_text
    assert described == dict(REJECTIONS)
    assert all(text and text != stage for stage, text in described.items())

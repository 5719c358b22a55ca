"""`evolver run --provider openai|anthropic` end to end, against a loopback server that speaks
their wire formats, driven through the real SDKs and the real command line."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import (
    KEYS_PROJECT,
    MakeRepo,
    demo_repo,
    demo_workload,
    evolver,
    git,
    init_repo,
    run_tests_on_branch,
)
from tests.llm_server import LLMServer, Reply
from tests.loopback import Serving

FASTER = """Here is a faster version: `dict` membership is already O(1), so skip `keys()`.

```python
def count_known(d, keys):
    total = 0
    for k in keys:
        if k in d:
            total += 1
    return total
```
"""

ELIDED = """```python
def count_known(d, keys):
    total = 0
    # ... rest unchanged
    return total
```"""

SECRET = "sk-test-do-not-leak-1234567890"

# Nothing here asserts on confirming the whole result (timing the workload on the base and on
# the result), and on the demo it took over half the run.
NO_CONFIRM = "--no-confirm"

DEMO_TARGET = "logkit/ips.py::unique_in_order"
DEMO_FASTER = '''A dict keeps insertion order and tests membership in O(1):

```python
def unique_in_order(items: list[str]) -> list[str]:
    """The distinct values of ``items``, each kept at the position of its first occurrence."""
    return list(dict.fromkeys(items))
```
'''


def run(repo: Path, tmp_path: Path, provider: str, server: LLMServer, *flags: str,
        branch: str = "evolver/model", target: str = "pkg/core.py::count_known",
        ) -> tuple[subprocess.CompletedProcess[str], dict]:  # fmt: skip
    base_url = server.openai_base_url if provider == "openai" else server.anthropic_base_url
    report_path = tmp_path / f"{branch.replace('/', '-')}.json"
    done = evolver(
        "run", str(repo), "--provider", provider, "--base-url", base_url, "--model", "gpt-4.1-mini",
        "--target", target, "--branch", branch, "--json", str(report_path),
        *flags,
        env={"OPENAI_API_KEY": SECRET, "ANTHROPIC_API_KEY": SECRET,
             "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return done, report


@dataclass(frozen=True)
class DemoRun:
    """One `evolver run` on a copy of the demo, asking a model that answers ``DEMO_FASTER``."""

    repo: Path
    server: LLMServer
    done: subprocess.CompletedProcess[str]
    report: dict


def run_on_demo(serving: Serving, tmp_path: Path, provider: str, replies: list[Reply],
                *flags: str) -> DemoRun:  # fmt: skip
    repo = demo_repo(tmp_path / "demo")
    server = serving(LLMServer(replies))
    done, report = run(repo, tmp_path, provider, server, "--rounds", "1", "--candidates", "1",
                       "--workload", demo_workload("unique_ips"),  # the target's benchmark
                       NO_CONFIRM, *flags, target=DEMO_TARGET)  # fmt: skip
    return DemoRun(repo, server, done, report)


DEMO_REPLY = Reply(text=DEMO_FASTER, input_tokens=1000, output_tokens=200)
# Before its reply the openai run meets every fault that is retried, so that one verified run
# serves both test_a_correct_faster_reply_is_committed_on_the_demo and
# test_faults_are_retried_and_reported; what a fault costs (nothing) is asserted by the first.
FAULTS = [
    Reply(status=429, retry_after=0.2),
    Reply(status=429, retry_after=0.1),
    Reply(status=500),
    Reply(text=DEMO_FASTER, delay=3.0),  # slower than --timeout
]


@pytest.fixture(scope="module")
def openai_demo(module_loopback: Serving, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    tmp_path = tmp_path_factory.mktemp("openai-demo")
    return run_on_demo(module_loopback, tmp_path, "openai", [*FAULTS, DEMO_REPLY], "--timeout", "1")


@pytest.fixture(scope="module")
def anthropic_demo(module_loopback: Serving, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    tmp_path = tmp_path_factory.mktemp("anthropic-demo")
    return run_on_demo(module_loopback, tmp_path, "anthropic", [DEMO_REPLY])


@pytest.mark.pipeline
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_correct_faster_reply_is_committed_on_the_demo(
    tmp_path: Path, provider: str, request: pytest.FixtureRequest
) -> None:
    demo: DemoRun = request.getfixturevalue(f"{provider}_demo")
    repo, server, done, report = demo.repo, demo.server, demo.done, demo.report
    assert done.returncode == 0, done.stderr
    [candidate] = report["candidates"]
    assert candidate["committed"] and candidate["provider"] == provider, candidate
    assert candidate["ci"][0] > 1.3
    assert "dict.fromkeys(items)" in git(repo, "show", "evolver/model:logkit/ips.py")
    tests = run_tests_on_branch(repo, "evolver/model", tmp_path / "result")
    assert tests.returncode == 0, tests.stdout[-2000:]
    body = server.requests[0]["body"]
    assert "unique_in_order" in json.dumps(body)
    usage = report["usage"]
    assert usage["requests"] == 1 and usage["input_tokens"] == 1000
    assert usage["output_tokens"] == 200
    assert usage["cost_usd"] == pytest.approx((1000 * 0.40 + 200 * 1.60) / 1e6)
    assert candidate["provenance"]["request_input_tokens"] == 1000
    everything = done.stdout + done.stderr + json.dumps(report)
    assert SECRET not in everything


@dataclass(frozen=True)
class Asked:
    """One `evolver run` of ``elided_runs``: its process, its report, and how many requests the
    server had had when it ended."""

    done: subprocess.CompletedProcess[str]
    report: dict
    requests_so_far: int


@dataclass(frozen=True)
class ElidedRuns:
    """Three runs on one project and one response cache, every reply eliding code. Such a reply
    is rejected before any of it runs, so each run costs little more than its baseline."""

    server: LLMServer
    first: Asked  # --rounds 2: both rounds asked, the second told why the first was rejected
    again: Asked  # --rounds 1: its one request is the first run's round 1, cached
    # --no-cache: asked again, and its one reply (COSTLY) overspends its --budget-usd, so its
    # three rounds of (by default) several candidates ask nothing more
    fresh: Asked


COSTLY = Reply(text=ELIDED, input_tokens=10**6)  # $0.40 at gpt-4.1-mini's price


@pytest.fixture(scope="module")
def elided_runs(module_loopback: Serving, tmp_path_factory: pytest.TempPathFactory) -> ElidedRuns:
    tmp_path = tmp_path_factory.mktemp("elided")
    repo = init_repo(tmp_path / "repo", KEYS_PROJECT)
    server = module_loopback(LLMServer([Reply(text=ELIDED), Reply(text=ELIDED), COSTLY]))

    def asked(branch: str, *flags: str) -> Asked:
        done, report = run(repo, tmp_path, "openai", server, *flags, branch=branch)
        return Asked(done, report, len(server.requests))

    first = asked("evolver/a", "--rounds", "2", "--candidates", "1")
    again = asked("evolver/b", "--rounds", "1", "--candidates", "1")
    fresh = asked("evolver/c", "--rounds", "3", "--no-cache", "--budget-usd", "0.01")
    return ElidedRuns(server, first, again, fresh)


@pytest.mark.pipeline
def test_replies_are_cached_and_no_cache_asks_again(elided_runs: ElidedRuns) -> None:
    first, again, fresh = elided_runs.first, elided_runs.again, elided_runs.fresh
    assert first.requests_so_far == 2
    assert again.requests_so_far == first.requests_so_far  # not asked: the cache answered
    assert fresh.requests_so_far == again.requests_so_far + 1
    assert first.done.returncode == again.done.returncode == fresh.done.returncode == 0
    assert again.report["usage"]["cache_hits"] == 1 and again.report["usage"]["requests"] == 0
    assert again.report["usage"]["cost_usd"] == 0
    assert fresh.report["usage"]["cache_hits"] == 0 and fresh.report["usage"]["requests"] == 1


@pytest.mark.pipeline
def test_faults_are_retried_and_reported(openai_demo: DemoRun) -> None:
    done, report = openai_demo.done, openai_demo.report
    assert done.returncode == 0, done.stderr
    assert len(openai_demo.server.requests) == len(FAULTS) + 1
    assert report["usage"]["retries"] == len(FAULTS)
    assert any("429" in line for line in report["usage"]["retry_log"])
    assert any("Timeout" in line for line in report["usage"]["retry_log"])
    assert report["committed"] == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_unauthorized_stops_at_once(
    make_repo: MakeRepo, tmp_path: Path, provider: str, loopback: Serving
) -> None:
    repo = make_repo(KEYS_PROJECT)
    server = loopback(LLMServer([Reply(status=401)]))
    done, _ = run(repo, tmp_path, provider, server)
    assert len(server.requests) == 1  # never retried
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("evolver:")]
    assert errors == [lines[-1]] and "401" in lines[-1], lines
    assert git(repo, "branch", "--list", "evolver/*") == ""


def test_missing_key_is_a_usage_error(make_repo: MakeRepo) -> None:
    repo = make_repo(KEYS_PROJECT)
    done = evolver("run", str(repo), "--provider", "anthropic",
                   env={"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": ""})  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "evolver: error: ANTHROPIC_API_KEY is not set (export it, or name a file with --key-file)"
    )


@pytest.mark.pipeline
def test_a_reply_that_elides_code_is_rejected_with_its_reason(elided_runs: ElidedRuns) -> None:
    done, report = elided_runs.first.done, elided_runs.first.report
    assert done.returncode == 0, done.stderr
    [candidate] = report["candidates"]  # the second round brought nothing new
    assert candidate["verdict"] == "rejected" and candidate["stage"] == "reply"
    assert "placeholder" in candidate["reason"]
    assert elided_runs.first.requests_so_far == 2
    second_prompt = json.dumps(elided_runs.server.requests[1]["body"])
    assert "placeholder" in second_prompt  # the next round is told why


@pytest.mark.pipeline
def test_budget_stops_new_requests(elided_runs: ElidedRuns) -> None:
    """Also between the requests of one round: each candidate's strategy is its own request."""
    fresh = elided_runs.fresh
    assert fresh.requests_so_far == elided_runs.again.requests_so_far + 1
    assert fresh.done.returncode == 0, fresh.done.stderr
    assert any("budget" in note for note in fresh.report["notes"])

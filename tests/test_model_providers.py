"""`evolver run --provider openai|anthropic` end to end, against a loopback server that speaks
their wire formats, driven through the real SDKs and the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import KEYS_PROJECT, MakeRepo, demo_repo, evolver, git, run_tests_on_branch
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
        ) -> tuple[object, dict]:  # fmt: skip
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


@pytest.mark.pipeline
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_correct_faster_reply_is_committed_on_the_demo(
    tmp_path: Path, provider: str, loopback: Serving
) -> None:
    repo = demo_repo(tmp_path / "demo")
    server = loopback(LLMServer([Reply(text=DEMO_FASTER, input_tokens=1000, output_tokens=200)]))
    done, report = run(repo, tmp_path, provider, server, "--rounds", "1", "--candidates", "1",
                       target=DEMO_TARGET)  # fmt: skip
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
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
    everything = done.stdout + done.stderr + json.dumps(report)  # type: ignore[attr-defined]
    assert SECRET not in everything


@pytest.mark.pipeline
def test_replies_are_cached_and_no_cache_asks_again(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    repo = make_repo(KEYS_PROJECT)
    server = loopback(LLMServer([Reply(text=FASTER)]))
    one = ("--rounds", "1", "--candidates", "1")
    first, _ = run(repo, tmp_path, "openai", server, *one, branch="evolver/a")
    again, report = run(repo, tmp_path, "openai", server, *one, branch="evolver/b")
    assert len(server.requests) == 1
    fresh, fresh_report = run(repo, tmp_path, "openai", server, *one, "--no-cache",
                              branch="evolver/c")  # fmt: skip
    assert len(server.requests) == 2
    assert first.returncode == again.returncode == fresh.returncode == 0  # type: ignore[attr-defined]
    assert report["usage"]["cache_hits"] == 1 and report["usage"]["requests"] == 0
    assert report["usage"]["cost_usd"] == 0
    assert fresh_report["usage"]["cache_hits"] == 0 and fresh_report["usage"]["requests"] == 1


@pytest.mark.pipeline
def test_faults_are_retried_and_reported(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    repo = make_repo(KEYS_PROJECT)
    replies = [
        Reply(status=429, retry_after=0.2),
        Reply(status=429, retry_after=0.1),
        Reply(status=500),
        Reply(text=FASTER, delay=3.0),  # slower than --timeout
        Reply(text=FASTER),
    ]
    server = loopback(LLMServer(replies))
    done, report = run(repo, tmp_path, "openai", server, "--rounds", "1", "--candidates", "1",
                       "--timeout", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    assert len(server.requests) == 5
    assert report["usage"]["retries"] == 4
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
    assert done.returncode == 2  # type: ignore[attr-defined]
    lines = done.stderr.strip().splitlines()  # type: ignore[attr-defined]
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
def test_a_reply_that_elides_code_is_rejected_with_its_reason(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    repo = make_repo(KEYS_PROJECT)
    server = loopback(LLMServer([Reply(text=ELIDED)]))
    done, report = run(repo, tmp_path, "openai", server, "--rounds", "2", "--candidates", "1")
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    [candidate] = report["candidates"]  # the second round brought nothing new
    assert candidate["verdict"] == "rejected" and candidate["stage"] == "reply"
    assert "placeholder" in candidate["reason"]
    assert len(server.requests) == 2
    second_prompt = json.dumps(server.requests[1]["body"])
    assert "placeholder" in second_prompt  # the next round is told why


@pytest.mark.pipeline
def test_budget_stops_new_requests(make_repo: MakeRepo, tmp_path: Path, loopback: Serving) -> None:
    """Also between the requests of one round: each candidate's strategy is its own request."""
    repo = make_repo(KEYS_PROJECT)
    server = loopback(LLMServer([Reply(text=ELIDED, input_tokens=10**6)]))
    done, report = run(repo, tmp_path, "openai", server, "--rounds", "3", "--budget-usd",
                       "0.01")  # fmt: skip
    assert len(server.requests) == 1
    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    assert any("budget" in note for note in report["notes"])

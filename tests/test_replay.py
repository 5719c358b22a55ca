"""`--record-replies` and `--provider replay`: a model run recorded against the loopback server,
then replayed through the real command line with the server gone and no key."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from agent.providers.chat import Completion
from agent.providers.model import ModelSettings
from agent.providers.replies import FORMAT, ReplyLog
from tests.conftest import InProcess, MakeRepo, evolver, git
from tests.llm_server import LLMServer, Reply
from tests.loopback import Serving

# Quadratic, and linear once rewritten: the speedup is proven even on a busy machine.
PROJECT = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def unique(items: list[int]) -> list[int]:
            seen = []
            for item in items:
                if item not in seen:
                    seen.append(item)
            return seen
    """,
    "tests/test_core.py": """
        from pkg.core import unique


        def test_unique():
            assert unique([3, 1, 3, 2, 1]) == [3, 1, 2]
            assert unique(list(range(2000)) * 2) == list(range(2000))
            assert unique([]) == []
    """,
}
TARGET = "pkg/core.py::unique"
FASTER = """A dict keeps insertion order and tests membership in O(1):

```python
def unique(items: list[int]) -> list[int]:
    return list(dict.fromkeys(items))
```
"""
NO_KEYS = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "ANTHROPIC_API_KEY": ""}
# Nothing here asserts on confirming the whole result (the workload timed on the base and on the
# result): both runs skip it, which was a third of each.
NO_CONFIRM = "--no-confirm"


def run(repo: Path, tmp_path: Path, name: str, *flags: str) -> tuple[object, dict]:
    report_path = tmp_path / f"{name}.json"
    done = evolver(
        "run", str(repo), "--target", TARGET, "--branch", f"evolver/{name}",
        "--json", str(report_path), *flags,
        env={**NO_KEYS, "XDG_CACHE_HOME": str(tmp_path / f"cache-{name}")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done, json.loads(report_path.read_text())


@pytest.mark.pipeline
def test_a_recorded_run_replays_for_free(
    make_repo: MakeRepo, tmp_path: Path, loopback: Serving
) -> None:
    log = tmp_path / "replies.jsonl"
    recorded_repo = make_repo(PROJECT)
    server = loopback(LLMServer([Reply(text=FASTER, input_tokens=1000, output_tokens=200)]))
    _, recorded = run(
        recorded_repo, tmp_path, "recorded", "--provider", "openai", "--model", "gpt-4.1-mini",
        "--base-url", server.openai_base_url, "--rounds", "1", "--candidates", "1",
        "--no-cache", "--record-replies", str(log), NO_CONFIRM,
    )  # fmt: skip
    assert len(server.requests) == 1
    endpoint = server.openai_base_url
    cost = (1000 * 0.40 + 200 * 1.60) / 1e6
    [line] = log.read_text().splitlines()
    entry = json.loads(line)
    assert entry["format"] == FORMAT and entry["provider"] == "openai"
    assert (
        entry["endpoint"].rstrip("/") == endpoint and entry["n"] == 1 and entry["target"] == TARGET
    )
    assert entry["settings"]["model"] == "gpt-4.1-mini" and entry["settings"]["temperature"] == 0.2
    assert len(entry["key"]) == 64 and entry["cached"] is False
    assert entry["completion"] == {"texts": [FASTER], "input_tokens": 1000, "output_tokens": 200,
                                   "cached_tokens": 0, "requests": 1}  # fmt: skip
    assert entry["cost_usd"] == pytest.approx(cost)
    [original] = recorded["candidates"]
    assert original["committed"], (original["stage"], original["reason"])

    # A fresh copy, the server gone, no key; --candidates left at its default (4): the replay
    # asks what was recorded. Round 2 asks something never recorded: noted, and the run goes on.
    replayed_repo = make_repo(PROJECT)
    again_log = tmp_path / "again.jsonl"
    _, report = run(
        replayed_repo, tmp_path, "replayed", "--provider", "replay", "--replies", str(log),
        "--rounds", "2", "--record-replies", str(again_log), NO_CONFIRM,
    )  # fmt: skip
    assert report["provider"] == "replay"
    [candidate] = report["candidates"]
    assert candidate["id"] == original["id"] and candidate["committed"], candidate
    assert candidate["provenance"]["cached"] and candidate["provenance"]["model"] == "gpt-4.1-mini"
    assert git(replayed_repo, "show", "evolver/replayed:pkg/core.py") == git(
        recorded_repo, "show", "evolver/recorded:pkg/core.py"
    )
    usage = report["usage"]
    assert usage["cost_usd"] == 0 and usage["requests"] == 0 and usage["cache_hits"] == 1
    assert usage["recorded_cost_usd"] == pytest.approx(cost)
    assert usage["recorded_input_tokens"] == 1000 and usage["recorded_output_tokens"] == 200
    assert f"{TARGET}: replay failed: no recorded reply for this request" in report["notes"]
    # What a replay serves it records again, under the same key: a replay's log replays too.
    [again] = [json.loads(line) for line in again_log.read_text().splitlines()]
    assert again["key"] == entry["key"] and again["provider"] == "openai"
    assert again["cached"] is True and again["cost_usd"] == pytest.approx(cost)


def record_line(model: str) -> str:
    """A well-formed reply record (the settings it leaves out take their defaults)."""
    return json.dumps({
        "format": FORMAT, "provider": "openai", "endpoint": "https://api.openai.com/v1",
        "settings": {"model": model, "temperature": 0.2}, "n": 1, "key": "0" * 64,
        "target": TARGET, "completion": {"texts": [FASTER], "input_tokens": 1,
                                         "output_tokens": 1}, "cost_usd": 0.0, "cached": False,
    })  # fmt: skip


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "No such file or directory"),
        ("", "no replies in it"),
        ("\n\n", "no replies in it"),
        ("{not json\n", "line 1 is not a reply record (not JSON)"),
        (record_line("m") + "\n[1, 2]\n", "line 2 is not a reply record (format is not"),
        ('{"format": "evolver-replies/1"}\n', "line 1 is not a reply record (no 'settings')"),
        (record_line("m").replace('"texts": [', '"texts": [1, '), "completion texts must be"),
        (
            record_line("gpt-4.1") + "\n" + record_line("gpt-4.1-mini"),
            "line 2 comes from another provider",
        ),
    ],
)
def test_a_bad_replies_file_is_a_usage_error(
    make_repo: MakeRepo, evolver_here: InProcess, tmp_path: Path, content: str | None, error: str
) -> None:
    repo = make_repo(PROJECT)
    replies = tmp_path / "replies.jsonl"
    if content is not None:
        replies.write_text(content)
    code, stderr = evolver_here("run", str(repo), "--provider", "replay", "--replies", str(replies))
    assert code == 2
    [message] = stderr.strip().splitlines()
    assert message.startswith(f"evolver: error: --replies {replies}: ") and error in message
    assert git(repo, "branch", "--list", "evolver/*") == ""


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--record-replies", "log.jsonl"], "--record-replies: the rules provider asks no model"),
        (["--provider", "replay"], "--provider replay needs --replies FILE"),
        (["--provider", "openai", "--replies", "log.jsonl"], "--replies is for --provider replay"),
        (["--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--record-replies",
          "no/such/dir/log.jsonl"], "--record-replies no/such/dir/log.jsonl: No such file"),
    ],
)  # fmt: skip
def test_misused_reply_flags_are_usage_errors(
    make_repo: MakeRepo,
    evolver_here: InProcess,
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    error: str,
) -> None:
    repo = make_repo(PROJECT)
    for name, value in NO_KEYS.items():
        monkeypatch.setenv(name, value)
    code, stderr = evolver_here("run", str(repo), *flags)
    assert code == 2
    [message] = stderr.strip().splitlines()
    assert message.startswith(f"evolver: error: {error}"), message


def test_appends_from_threads_never_interleave(tmp_path: Path) -> None:
    log = ReplyLog(tmp_path / "log.jsonl")
    settings = ModelSettings("gpt-4.1-mini")
    big = "x" * 200_000  # far more than one buffer or pipe's worth

    def append(thread: int) -> None:
        for number in range(20):
            log.append(
                provider="openai", endpoint=None, settings=settings, n=1,
                key=f"{thread}-{number}", target=TARGET,
                completion=Completion([big + str(thread)], 1, 1), cost_usd=0.0, cached=False,
            )  # fmt: skip

    threads = [threading.Thread(target=append, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    keys = {json.loads(line)["key"] for line in lines}
    assert len(lines) == 160 and keys == {f"{t}-{n}" for t in range(8) for n in range(20)}

"""`evolver run --provider local`: a real GGUF model in process, on the bundled demo.

The end-to-end test is marked ``local_llm``: the first time, its fixture runs
scripts/get-local-model, which builds llama-cpp-python (minutes) and fetches a 1.1 GB model.
The other tests here load nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import UsageError
from agent.providers import make_provider
from agent.providers.local import HINT, find_model
from agent.providers.usage import Ledger
from tests.conftest import (
    KEYS_PROJECT,
    MakeRepo,
    demo_repo,
    demo_workload,
    evolver,
    git,
    run_project_tests,
)

ROOT = Path(__file__).parents[1]
TARGET = "logkit/ips.py::unique_in_order"
NO_MODEL = "no local model: run scripts/get-local-model (or pass --model-path PATH.gguf)"


@pytest.fixture
def no_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp_path / "models"
    empty.mkdir()
    monkeypatch.setenv("EVOLVER_MODELS", str(empty))
    monkeypatch.delenv("EVOLVER_MODEL_PATH", raising=False)
    return empty


def test_no_model_is_a_usage_error(no_models: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        make_provider(load_config(tmp_path, None, {"provider": "local"}), Ledger())
    assert str(raised.value) == NO_MODEL


def test_no_model_stops_the_command_line_at_once(no_models: Path, make_repo: MakeRepo) -> None:
    repo = make_repo(KEYS_PROJECT)
    done = evolver("run", str(repo), "--provider", "local")
    assert done.returncode == 2
    assert done.stderr.strip() == f"evolver: error: {NO_MODEL}"
    assert git(repo, "branch", "--list", "evolver/*") == ""


def test_no_llama_cpp_is_a_usage_error(
    no_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (no_models / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp → ImportError
    with pytest.raises(UsageError) as raised:
        make_provider(load_config(tmp_path, None, {"provider": "local"}), Ledger())
    assert str(raised.value) == f"llama-cpp-python is not installed: {HINT}"


def test_the_model_is_found_in_order(
    no_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = no_models / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    small.write_bytes(b"GGUF")
    assert find_model(None) == small.resolve()
    large = no_models / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    large.write_bytes(b"GGUF")
    assert find_model(None) == large.resolve()
    assert find_model("gpt-4.1-mini") == large.resolve()  # not a path: ignored
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF")
    monkeypatch.setenv("EVOLVER_MODEL_PATH", str(mine))
    assert find_model(None) == mine.resolve()
    given = tmp_path / "given.gguf"
    with pytest.raises(UsageError, match=r"no local model at .*given\.gguf"):
        find_model(str(given))
    given.write_bytes(b"GGUF")
    assert find_model(str(given)) == given.resolve()


# --- the real model -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_model() -> Path:
    """The model's path, after scripts/get-local-model when it or llama-cpp-python is missing."""
    given = os.environ.get("EVOLVER_MODEL_PATH")
    importable = subprocess.run([sys.executable, "-c", "import llama_cpp"], check=False)
    if given and Path(given).is_file() and importable.returncode == 0:
        return Path(given)
    start = time.monotonic()
    done = subprocess.run(
        [str(ROOT / "scripts" / "get-local-model")],
        stdout=subprocess.PIPE,
        text=True,
        timeout=3000,
        check=False,
    )  # its progress goes to stderr, which pytest shows on failure
    assert done.returncode == 0, "scripts/get-local-model failed"
    path = Path(done.stdout.strip().splitlines()[-1])
    print(f"\nget-local-model: {path} ({time.monotonic() - start:.0f} s)")
    assert path.is_file()
    return path


@pytest.mark.pipeline
@pytest.mark.local_llm
@pytest.mark.timeout(3600)
def test_a_local_model_proposes_candidates_for_the_demo(local_model: Path, tmp_path: Path) -> None:
    repo = demo_repo(tmp_path / "demo")
    report_path = tmp_path / "report.json"
    cache = tmp_path / "cache"  # a fresh response cache: the model really answers, and the
    # replies (which the report leaves out) can be read back from it

    start = time.monotonic()
    done = evolver(
        "run", str(repo), "--provider", "local", "--model", str(local_model),
        "--temperature", "0", "--seed", "1", "--max-tokens", "1024",
        "--target", TARGET, "--rounds", "1", "--candidates", "1",
        "--branch", "evolver/local", "--json", str(report_path), "--progress",
        "--timing-budget", "5",  # what it measures is not what this test is about
        "--workload", demo_workload("unique_ips"),  # the target's benchmark alone
        env={"XDG_CACHE_HOME": str(cache)}, timeout=1800,
    )  # fmt: skip
    elapsed = time.monotonic() - start

    print(done.stderr[-4000:])
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(report_path.read_text())
    usage = report["usage"]
    print(f"run took {elapsed:.0f} s; usage: {json.dumps(usage)}")
    for reply in (cache / "evolver" / "responses").glob("*.json"):
        distinct = dict.fromkeys(json.loads(reply.read_text())["texts"])  # greedy: all alike
        for number, text in enumerate(distinct, 1):
            print(f"--- reply {number} ---\n{text}")
    for candidate in report["candidates"]:
        print(f"{candidate['summary']}: {candidate['verdict']} at {candidate['stage']}: "
              f"{candidate['reason']} (speedup {candidate['speedup']}, "
              f"committed {candidate['committed']})")  # fmt: skip

    assert report["provider"] == "local"
    assert usage["requests"] == 1
    assert usage["output_tokens"] > 0
    assert usage["cost_usd"] == 0 and usage["unpriced_models"] == []
    assert report["candidates"], report["notes"]
    assert all(c["provenance"]["model"] == f"local:{local_model.name}"
               for c in report["candidates"])  # fmt: skip
    for number, candidate in enumerate(c for c in report["candidates"] if c["committed"]):
        clone = tmp_path / f"check{number}"
        git(tmp_path, "clone", "--quiet", "--branch", "evolver/local", str(repo), str(clone))
        git(clone, "checkout", "--quiet", candidate["commit"])
        tests = run_project_tests(clone)
        assert tests.returncode == 0, tests.stdout[-2000:]

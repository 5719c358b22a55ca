"""`evolver eval` on a small corpus made here: the oracle, a wrong reference the hidden tests
catch, resuming, the Ray executor against the local one, and `eval compare`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.errors import UsageError
from evals.corpus import load_task, load_task_checked, load_tasks
from evals.executors import LocalExecutor, RayExecutor
from evals.harness import run_eval
from evals.run_task import EvalSettings, run_task
from tests.conftest import evolver, write_files
from tests.llm_server import LLMServer, Reply
from tests.loopback import Serving

TASKS = Path(__file__).resolve().parents[1] / "evals" / "tasks"

SLOW_PAIRS = """
def count_pairs(values: list[int], total: int) -> int:
    count = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] + values[j] == total:
                count += 1
    return count
"""

FAST_PAIRS = """
def count_pairs(values: list[int], total: int) -> int:
    seen: dict[int, int] = {}
    count = 0
    for value in values:
        count += seen.get(total - value, 0)
        seen[value] = seen.get(value, 0) + 1
    return count
"""

SLOW_SQUARES = """
def sum_squares(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total
"""

# Right for every n the agent's checks can reach (at most the largest recorded), wrong beyond.
WRONG_SQUARES = """
def sum_squares(n: int) -> int:
    if n > 1_000_000:
        return 0
    return (n - 1) * n * (2 * n - 1) // 6 if n > 0 else 0
"""


HIDDEN_PAIRS = "assert count_pairs([], 3) == 0"
HIDDEN_SQUARES = "assert sum_squares(2_000_000) == 2666664666667000000"


def task_files(name: str, kind: str, module: str, slow: str, fast: str | None) -> dict[str, str]:
    function = slow.split("(")[0].split()[-1]
    bench_args = "([i % 97 for i in range(600)], 50)" if "pairs" in name else "(30_000,)"
    files = {
        "task.toml": f"""
            name = "{name}"
            description = "test task"
            target = "pkg/{module}.py::{function}"
            kind = "{kind}"
            tags = ["test"]
        """
        + ("\n[reference]\nspeedup = 10.0\n" if fast else ""),
        "repo/pkg/__init__.py": "",
        f"repo/pkg/{module}.py": slow,
        f"repo/tests/test_{module}.py": f"""
            from pkg.{module} import {function}


            def test_small():
                assert {function}(*{bench_args}) == {function}(*{bench_args})
                assert {function}(*{"([1, 2, 3, 4], 5)" if "pairs" in name else "(4,)"}) == {
            2 if "pairs" in name else 14
        }
        """,
        f"repo/benchmarks/test_bench_{module}.py": f"""
            from pkg.{module} import {function}


            def bench_case():
                return {function}, {bench_args}


            def test_bench(benchmark):
                function, args = bench_case()
                benchmark(function, *args)
        """,
        f"hidden/test_hidden_{module}.py": f"""
            from pkg.{module} import {function}


            def test_hidden():
                {HIDDEN_PAIRS if "pairs" in name else HIDDEN_SQUARES}
        """,
    }
    if fast:
        files[f"reference/pkg/{module}.py"] = fast
    return files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_files(root / "pairs", task_files("pairs", "model", "pairs", SLOW_PAIRS, FAST_PAIRS))
    write_files(
        root / "squares", task_files("squares", "model", "squares", SLOW_SQUARES, WRONG_SQUARES)
    )
    write_files(root / "nothing", task_files("nothing", "none", "noop", SLOW_SQUARES, None))
    return root


@pytest.fixture(scope="module")
def oracle_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("oracle")
    done = evolver("eval", "--provider", "oracle", "--tasks-dir", str(corpus), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done


def by_task(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["task"]: task for task in run["tasks"]}


@pytest.mark.pipeline
def test_the_oracle_is_judged_by_hidden_tests_and_retimed(oracle_run: tuple[Path, Any]) -> None:
    out, done = oracle_run
    run = json.loads((out / "results.json").read_text())
    tasks = by_task(run)
    assert tasks["pairs"]["committed"] and tasks["pairs"]["hidden_tests"] == "passed"
    assert tasks["pairs"]["speedup"] > 3  # re-timed by the harness, not the agent's claim
    # A reference that is wrong beyond what the agent could check: committed, then caught.
    assert tasks["squares"]["committed"] and tasks["squares"]["hidden_tests"] == "failed"
    assert not tasks["nothing"]["committed"]
    summary = run["summary"]
    assert summary["wrong_commits"] == 1
    assert summary["solved"]["count"] == 2  # pairs, and nothing for "nothing"
    assert (out / "results.md").read_text().count("pairs") >= 1
    assert (out / "chart.svg").read_text().startswith("<svg")
    assert "pairs" in done.stdout


@pytest.mark.pipeline
def test_the_reference_is_timed_in_the_same_run(oracle_run: tuple[Path, Any]) -> None:
    """The reference's speedup is measured beside the result's, by the same timer, on the same
    original's samples; the oracle's result is the reference, so the two agree."""
    out, _ = oracle_run
    tasks = by_task(json.loads((out / "results.json").read_text()))
    pairs = tasks["pairs"]
    assert pairs["reference_timing"] == "measured"
    assert pairs["stored_reference_speedup"] == 10.0  # task.toml's, informational
    low, high = pairs["reference_interval"]
    assert low <= pairs["reference_speedup"] <= high
    assert pairs["reference_speedup"] > 3
    assert 0.5 < pairs["speedup"] / pairs["reference_speedup"] < 2
    nothing = tasks["nothing"]
    assert nothing["reference_timing"] is None and nothing["reference_speedup"] is None
    [candidate] = pairs["candidates"]
    assert candidate["committed"] is True and "strategy" in candidate


SLOWER_PAIRS = FAST_PAIRS.replace(
    "    return count", "    for _ in range(2_000):\n        sorted(values)\n    return count"
)
BROKEN_PAIRS = FAST_PAIRS.replace("    return count", "    raise ValueError(values)")


@pytest.fixture(scope="module")
def rejected_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tasks whose reference the agent rejects: slower than the original, and broken."""
    root = tmp_path_factory.mktemp("rejected")
    for name, fast in (("pairs-slower", SLOWER_PAIRS), ("pairs-broken", BROKEN_PAIRS)):
        write_files(root / name, task_files(name, "model", "pairs", SLOW_PAIRS, fast))
    return root


@pytest.mark.pipeline
def test_the_reference_is_timed_when_nothing_is_committed(rejected_corpus: Path) -> None:
    [task] = load_tasks("pairs-slower", rejected_corpus)
    result = run_task(task, EvalSettings("oracle", retime_rounds=2, retime_calls=3))
    assert not result["committed"], result
    assert result["reference_timing"] == "measured"
    assert result["reference_speedup"] < 1 < result["stored_reference_speedup"]


@pytest.mark.pipeline
def test_the_stored_reference_figure_stands_when_timing_fails(rejected_corpus: Path) -> None:
    [task] = load_tasks("pairs-broken", rejected_corpus)
    result = run_task(task, EvalSettings("oracle", retime_rounds=2, retime_calls=3))
    assert not result["committed"], result
    assert result["reference_timing"] == "stored"
    assert result["reference_speedup"] == result["stored_reference_speedup"] == 10.0
    assert "ValueError" in result["reference_error"]


@pytest.mark.pipeline
def test_a_model_provider_is_scored_and_its_replies_recorded(
    corpus: Path, tmp_path: Path, loopback: Serving
) -> None:
    """`evolver eval` with a model provider (the loopback server speaking OpenAI's wire
    format), end to end: the reply logs' folder is made, the model's answer judged."""
    out = tmp_path / "model"
    answer = f"Count complements with a dict:\n\n```python\n{FAST_PAIRS.strip()}\n```\n"
    server = loopback(LLMServer([Reply(text=answer, input_tokens=900, output_tokens=150)]))
    done = evolver(
        "eval", "--provider", "openai", "--model", "gpt-4.1-mini",
        "--base-url", server.openai_base_url, "--tasks-dir", str(corpus),
        "--tasks", "pairs", "--rounds", "1", "--candidates", "1", "--out", str(out),
        env={"OPENAI_API_KEY": "", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert len(server.requests) == 1
    assert done.returncode == 0, done.stderr
    [task] = json.loads((out / "results.json").read_text())["tasks"]
    assert task["committed"] and task["hidden_tests"] == "passed", task
    [line] = (out / "replies" / "pairs.jsonl").read_text().splitlines()
    assert json.loads(line)["target"] == "pkg/pairs.py::count_pairs"


@pytest.mark.pipeline
def test_a_rerun_resumes(oracle_run: tuple[Path, Any], corpus: Path) -> None:
    out, _ = oracle_run
    again = evolver("eval", "--provider", "oracle", "--tasks-dir", str(corpus), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "results.json").read_text())["resumed"] == 3
    other = evolver("eval", "--provider", "rules", "--tasks-dir", str(corpus), "--out", str(out))
    assert other.returncode == 2 and "other settings" in other.stderr


@pytest.mark.pipeline
def test_ray_scores_as_the_local_executor_does(
    oracle_run: tuple[Path, Any], corpus: Path, tmp_path: Path
) -> None:
    out, _ = oracle_run
    local = by_task(json.loads((out / "results.json").read_text()))
    # One task: what is tested is that a task run on Ray scores as it does locally.
    tasks = load_tasks("pairs", corpus)
    settings = EvalSettings("oracle", retime_rounds=2, retime_calls=3)
    run = run_eval(tasks, settings, RayExecutor(jobs=2), tmp_path / "ray")
    [(name, result)] = by_task(run).items()
    for key in ("status", "committed", "hidden_tests"):
        assert result[key] == local[name][key], (name, key)
    assert result["speedup"] > 3 and local[name]["speedup"] > 3, name
    assert run["summary"]["solved"]["count"] == 1 and run["summary"]["wrong_commits"] == 0


@pytest.mark.pipeline
def test_compare_shows_two_runs_side_by_side(oracle_run: tuple[Path, Any], tmp_path: Path) -> None:
    out, _ = oracle_run
    first = json.loads((out / "results.json").read_text())
    worse = dict(
        first,
        tasks=[dict(t, committed=False, hidden_tests=None, speedup=1.0) for t in first["tasks"]],
    )
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    done = evolver("eval", "compare", str(out / "results.json"), str(tmp_path / "worse.json"))
    assert done.returncode == 0, done.stderr
    assert "pairs" in done.stdout
    broken = evolver(
        "eval", "compare", str(tmp_path / "missing.json"), str(tmp_path / "worse.json")
    )
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1


def test_local_executor_with_one_job_runs_in_order() -> None:
    executor = LocalExecutor(1)
    assert list(executor.map(lambda n: {"n": n}, [3, 1])) == [(3, {"n": 3}), (1, {"n": 1})]


# --- checking the corpus (evals/check_tasks.py) ------------------------------------------------

# Right on the visible and hidden tests, wrong on any input with repeated values (the
# benchmark's): only the behaviour check can tell.
UNIQUE_PAIRS = """
def count_pairs(values: list[int], total: int) -> int:
    seen = set(values)
    return sum(1 for value in seen if total - value in seen and value < total - value)
"""


def check_tasks(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(__file__).resolve().parent.parent / "evals" / "check_tasks.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=600
    )


def test_check_tasks_passes_a_good_task_and_times_its_reference(corpus: Path) -> None:
    done = check_tasks("--tasks-dir", str(corpus), "--only", "pairs")
    assert done.returncode == 0, done.stdout + done.stderr
    [pairs] = [line.split() for line in done.stdout.splitlines() if line.startswith("pairs ")]
    assert pairs[-1] == "ok" and float(pairs[4].rstrip("×")) > 3, done.stdout
    # task.toml's figure (10x) is informational: far off, it warns and fails nothing.
    assert "warning: measured" in done.stdout


def test_check_tasks_catches_a_reference_that_behaves_otherwise(tmp_path: Path) -> None:
    write_files(tmp_path / "pairs", task_files("pairs", "model", "pairs", SLOW_PAIRS, UNIQUE_PAIRS))
    done = check_tasks("--tasks-dir", str(tmp_path), "--no-timing")
    assert done.returncode == 1
    assert "reference differs: on a recorded call" in done.stdout, done.stdout


def test_check_tasks_on_a_task_of_the_corpus() -> None:
    done = check_tasks("--only", "merge-intervals", "--no-timing")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 tasks (0 rules, 1 model, 0 none, 0 class), 0 failing" in done.stdout
    unknown = check_tasks("--only", "no-such-task")
    assert unknown.returncode == 2 and "no such task" in unknown.stderr


def test_check_tasks_judges_a_class_reference_on_sequences(tmp_path: Path) -> None:
    # A class task of the corpus (its benchmarks on a hundredth of the parcels), and the same
    # with its wrong variant (a remove that forgets the index) as the reference and no hidden
    # tests to catch it: the sequences the workload makes must.
    for name, wrong in (("depot-right", False), ("depot-wrong", True)):
        task = tmp_path / name
        shutil.copytree(TASKS / "depot-parcel-index", task)
        toml = (task / "task.toml").read_text(encoding="utf-8")
        (task / "task.toml").write_text(toml.replace("depot-parcel-index", name), "utf-8")
        bench = task / "repo" / "benchmarks" / "test_bench_manifest.py"
        small = bench.read_text("utf-8").replace("20_000", "500").replace("200_000", "2_000")
        # a workload that lists a depot after a cancellation, and asserts nothing of it
        cancel = (
            "\n\ndef test_cancel():\n    manifest = make_manifest(size=50)\n"
            "    manifest.at_depot(manifest.remove('TRK00000007').depot)\n"
        )
        bench.write_text(small + cancel, "utf-8")
        if wrong:
            shutil.rmtree(task / "reference")
            (task / "wrong").rename(task / "reference")
            (task / "reference" / "WHY.txt").unlink()
            for hidden in (task / "hidden").glob("test_*.py"):
                hidden.write_text("def test_nothing() -> None:\n    pass\n", encoding="utf-8")
    done = check_tasks("--tasks-dir", str(tmp_path), "--no-timing")
    assert done.returncode == 1, done.stdout + done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line.strip()}
    assert rows["depot-right"][-1] == "ok", done.stdout
    assert rows["depot-wrong"][-1] != "ok", done.stdout
    assert "reference differs: on " in done.stdout and "sequence" in done.stdout, done.stdout


def test_a_task_is_loaded_with_all_its_problems(tmp_path: Path) -> None:
    files = task_files("Bad_Name", "fast", "pairs", SLOW_PAIRS, None)
    files["task.toml"] = files["task.toml"].replace('tags = ["test"]', "tags = []")
    del files["hidden/test_hidden_pairs.py"]
    write_files(tmp_path / "Bad_Name", files)
    task, problems = load_task_checked(tmp_path / "Bad_Name")
    assert task is not None and task.name == "Bad_Name"
    assert any("kebab-case" in p for p in problems)
    assert any("kind 'fast'" in p for p in problems)
    assert any("tags" in p for p in problems)
    assert any("no hidden tests" in p for p in problems)
    with pytest.raises(UsageError, match="kind 'fast'"):  # the eval's loader still refuses it
        load_task(tmp_path / "Bad_Name")
    (tmp_path / "Bad_Name" / "task.toml").write_text("name = [")
    task, problems = load_task_checked(tmp_path / "Bad_Name")
    assert task is None and problems[0].startswith("task.toml:")

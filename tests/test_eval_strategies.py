"""The eval's strategies, references and comparisons on hand-built results: which strategy won
per task kind, a reference not timed in the run marked as such, results written before these
keys existed, and `evolver eval compare`'s gains and losses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from evals import compare, results, scores, tables
from tests.conftest import evolver
from tests.test_scores import correct, result, run, wrong


def tried(strategy: str | None, accepted: bool = False, committed: bool = False) -> dict[str, Any]:
    return {
        "summary": f"a {strategy} candidate",
        "stage": "benchmark" if accepted else "tests",
        "accepted": accepted,
        "reason": "2.0×" if accepted else "failed",
        "strategy": strategy,
        "committed": committed,
    }


def labelled_run() -> list[dict[str, Any]]:
    return [
        # rules: one candidate applied two rules and won; a lone builtins one was not needed
        correct(
            "a",
            candidates=[tried("builtins+data-structure", True, True), tried("builtins", True)],
        ),
        # two rounds both committed an algorithm: the task is won once
        correct(
            "b",
            kind="model",
            candidates=[
                tried("algorithm", True, True),
                tried("caching"),
                tried("algorithm", True, True),
            ],
        ),
        # committed, but the hidden tests caught it: committed, not won
        wrong("c", kind="model", candidates=[tried("caching", True, True)]),
        # nothing committed: an unknown label and an unlabelled candidate
        result("d", kind="model", candidates=[tried("parallel"), tried(None), tried("vectorize")]),
        # a correct speedup on a task of kind none still counts as one
        correct(
            "e",
            kind="none",
            speedup=1.3,
            reference_speedup=None,
            candidates=[tried("repeated-work", True, True)],
        ),
        # committed, too small; a label naming a strategy twice counts it once
        correct(
            "f",
            kind="model",
            speedup=1.05,
            candidates=[tried(" builtins + builtins ", True, True)],
        ),
    ]


def counts(tried: int, accepted: int, committed: int, won: int) -> dict[str, int]:
    return {"tried": tried, "accepted": accepted, "committed": committed, "won": won}


ZERO = counts(0, 0, 0, 0)


def test_strategies_are_counted_per_kind_and_overall() -> None:
    found = scores.summary(labelled_run())["strategies"]
    assert set(found) == {"overall", "by_kind"}
    overall = found["overall"]
    # the prompts' order, then unknown labels, then the unlabelled
    assert list(overall) == [
        "algorithm", "data-structure", "builtins", "repeated-work", "caching", "parallel",
        "vectorize", "unlabelled",
    ]  # fmt: skip
    assert overall["algorithm"] == counts(2, 2, 2, 1)
    assert overall["data-structure"] == counts(1, 1, 1, 1)
    assert overall["builtins"] == counts(3, 3, 2, 1)
    assert overall["repeated-work"] == counts(1, 1, 1, 1)
    assert overall["caching"] == counts(2, 1, 1, 0)
    assert overall["parallel"] == counts(1, 0, 0, 0)
    assert overall["unlabelled"] == counts(1, 0, 0, 0)
    by_kind = found["by_kind"]
    assert list(by_kind) == list(results.KINDS)
    assert all(list(by_kind[kind]) == list(overall) for kind in results.KINDS)
    assert by_kind["rules"]["builtins"] == counts(2, 2, 1, 1)
    assert by_kind["rules"]["data-structure"] == counts(1, 1, 1, 1)
    assert by_kind["rules"]["algorithm"] == ZERO
    assert by_kind["model"]["builtins"] == counts(1, 1, 1, 0)
    assert by_kind["model"]["algorithm"] == counts(2, 2, 2, 1)
    assert by_kind["none"]["repeated-work"] == counts(1, 1, 1, 1)
    # per kind adds up to overall
    for name, total in overall.items():
        for key in total:
            assert sum(by_kind[kind][name][key] for kind in results.KINDS) == total[key]
    json.dumps(found)


def test_no_candidates_no_strategies() -> None:
    found = scores.summary([result("x"), result("y", kind="none", reference_speedup=None)])
    assert found["strategies"] == {"overall": {}, "by_kind": {"rules": {}, "model": {}, "none": {}}}
    text = tables.markdown(run("oracle", [result("x")]))
    assert "## Strategies" not in text


def test_markdown_and_terminal_show_the_strategies_by_kind() -> None:
    text = tables.markdown(run("rules", labelled_run()))
    section = text.split("## Strategies\n\n", 1)[1].split("\n\n## ", 1)[0]
    lines = section.splitlines()
    assert lines[0].startswith("Each cell: tried/accepted/won")
    assert "| Strategy | rules | model | none | All kinds | Committed |" in lines
    assert "| builtins | 2/2/1 | 1/1/0 | 0/0/0 | 3/3/1 | 2 |" in lines
    assert "| algorithm | 0/0/0 | 2/2/1 | 0/0/0 | 2/2/1 | 2 |" in lines
    assert "| caching | 0/0/0 | 2/1/0 | 0/0/0 | 2/1/0 | 1 |" in lines
    assert "| unlabelled | 0/0/0 | 1/0/0 | 0/0/0 | 1/0/0 | 0 |" in lines
    rows = {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ")}
    assert "| 2/2 | builtins+data-structure |" in rows["a"]
    assert "| 2/3 | algorithm |" in rows["b"]  # two rounds, one strategy
    assert "| 0/3 | — |" in rows["d"]
    odd = correct("odd", candidates=[tried("a|b_c", True, True), tried(None, True, True)])
    odd_text = tables.markdown(run("rules", [odd]))
    assert r"| a\|b\_c, unlabelled |" in odd_text  # escaped: the table keeps its columns
    assert r"| a\|b\_c | 1/1/1 | 1/1/1 | 1 |" in odd_text
    # a run of one kind has that kind's column only
    only_rules = tables.markdown(run("rules", labelled_run()[:1]))
    assert "| Strategy | rules | All kinds | Committed |" in only_rules
    console = Console(record=True, width=250)
    console.print(tables.run_rich(run("rules", labelled_run())))
    shown = console.export_text()
    assert "Strategies" in shown and "tried/accepted/won" in shown
    assert any("data-structure" in line and "1/1/1" in line for line in shown.splitlines())


def test_a_stored_reference_is_marked_and_a_measured_one_is_not() -> None:
    measured = correct("timed", speedup=3.8, reference_speedup=4.0, reference_interval=[3.9, 4.1])
    stored = correct(
        "kept", speedup=3.8, reference_speedup=4.0, stored_reference_speedup=4.0,
        reference_timing="stored",
    )  # fmt: skip
    text = tables.markdown(run("oracle", [measured]))
    assert "4.00×†" not in text and "not measured in this run" not in text
    assert "| References timed in this run | 1/1 (100%) |" in text
    text = tables.markdown(run("oracle", [measured, stored]))
    rows = {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ")}
    assert "| 4.00×† |" in rows["kept"] and "| 4.00× |" in rows["timed"]
    assert "† stored value (task.toml), not measured in this run" in text
    assert "| References timed in this run | 1/2 (50%) |" in text
    console = Console(record=True, width=250)
    console.print(tables.run_rich(run("oracle", [measured, stored])))
    shown = console.export_text()
    assert "4.00×†" in shown and "not measured in this run" in shown
    # why it could not be timed, when the run said; and a reference the run never got to time
    failed = dict(stored, task="failed", reference_error="reference_x crashed: <boom>")
    untimed = correct("untimed", reference_speedup=4.0, reference_timing=None)
    text = tables.markdown(run("oracle", [failed, untimed]))
    assert r"- failed: reference\_x crashed: \<boom\>" in text
    assert "| 4.00×† |" in text.split("| untimed |")[1].splitlines()[0]
    assert scores.summary([failed, untimed])["reference_measured"]["count"] == 0


# A task's result as evals/run_task.py wrote it before candidates carried their strategy and
# the reference was timed in the run.
OLD_RESULT = {
    "task": "old",
    "kind": "model",
    "tags": ["algorithms"],
    "target": "pkg/m.py::f",
    "status": "ok",
    "error": None,
    "committed": True,
    "hidden_tests": "passed",
    "hidden_failures": [],
    "speedup": 3.0,
    "speedup_interval": [2.9, 3.1],
    "claimed_speedup": 3.2,
    "reference_speedup": 4.0,
    "candidates": [
        {"summary": "dict lookup", "stage": "benchmark", "accepted": True, "reason": "3.0×"},
    ],
    "notes": [],
    "input_tokens": 10,
    "output_tokens": 5,
    "cost_usd": 0.0,
    "wall_seconds": 2.5,
}


def test_results_from_before_these_keys_still_load(tmp_path: Path) -> None:
    old_run = {"provider": "rules", "options": {}, "tasks": [OLD_RESULT], "summary": {}}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(old_run))
    loaded = results.load_run(path)
    [task] = results.as_results(loaded["tasks"])
    assert task.reference_timing == "stored" and task.reference_stored  # task.toml's, then
    assert task.reference_interval is None and task.stored_reference_speedup is None
    [candidate] = task.candidates
    assert candidate.strategy is None and not candidate.committed
    assert results.TaskResult.from_json(task.to_json()) == task
    summary = scores.summary(loaded["tasks"])
    assert summary["strategies"]["overall"] == {"unlabelled": counts(1, 1, 0, 0)}
    assert summary["reference_measured"] == {"count": 0, "of": 1, "share": 0.0}
    assert summary["correct_speedup"]["count"] == 1
    text = tables.markdown(loaded)
    assert "| 4.00×† |" in text and "not measured in this run" in text
    # a task with no reference has nothing stored to mark
    none = results.TaskResult.from_json({"task": "n", "kind": "none"})
    assert none.reference_timing is None and not none.reference_stored


# --- comparing two runs -------------------------------------------------------------------------


def two_runs() -> tuple[dict[str, Any], dict[str, Any]]:
    a = run(
        "rules",
        [
            correct("learns-not", speedup=2.0),
            result("learns"),
            correct("speeds", speedup=2.0, reference_speedup=8.0),
            correct("breaks", speedup=2.0),
            correct("steady", speedup=2.0),
            wrong("still-wrong"),
            result("gone"),
        ],
    )
    b = run(
        "openai",
        [
            result("learns-not"),
            correct("learns", speedup=3.0),
            correct("speeds", speedup=6.0, reference_speedup=8.0),
            wrong("breaks", speedup=5.0),
            correct("steady", speedup=2.05),
            wrong("still-wrong"),
        ],
        options={"model": "gpt-x"},
    )
    return a, b


def test_compare_says_gained_lost_or_same_per_task_and_counts_them() -> None:
    found = compare.comparison(*two_runs())
    directions = {row["task"]: row["direction"] for row in found.tasks}
    assert directions == {
        "learns-not": "lost",
        "learns": "gained",
        "speeds": "gained",
        "breaks": "lost",
        "steady": "same",
        "still-wrong": "same",
        "gone": "only in A",
    }
    assert found.counts == {
        "gained": 2, "lost": 2, "same": 2, "only in A": 1, "only in B": 0,
    }  # fmt: skip
    assert found.counts_text == "2 gained, 2 lost, 2 same, 1 only in A"
    assert found.to_json()["counts"] == found.counts
    _, text = compare.compare(*two_runs())
    lines = text.splitlines()
    assert "**2 gained, 2 lost, 2 same, 1 only in A.**" in lines[:4]
    # each task's line: both speedups, both outcomes, the verdict and which way it went
    assert (
        "| learns | rules | 1.00× | 3.00× | ×3.00 | nothing committed | correct ≥ 1.1× "
        "| **newly solved** | gained |"
    ) in lines
    assert (
        "| breaks | rules | 2.00× | 1.00× | ÷2.00 | correct ≥ 1.1× | wrong commit "
        "| **new wrong commit** | lost |"
    ) in lines
    steady = "| steady | rules | 2.00× | 2.05× | +2% | correct ≥ 1.1× | correct ≥ 1.1× | same |"
    assert f"{steady} same |" in lines
    gone = "| gone | rules | 1.00× | — | — | nothing committed | — | only in A | only in A |"
    assert gone in lines
    assert "References stored" not in text


def test_compare_of_identical_runs_is_all_same_and_warns_of_stored_references() -> None:
    a, _ = two_runs()
    found = compare.comparison(a, a)
    assert found.counts_text == "0 gained, 0 lost, 7 same"
    stored = run("rules", [correct("x", reference_timing="stored")])
    assert compare.comparison(a, stored).stored_references == (0, 1)
    _, text = compare.compare(a, stored)
    assert "References stored, not timed in the run: 0 in A, 1 in B" in text


def test_eval_compare_on_the_command_line(tmp_path: Path) -> None:
    a, b = two_runs()
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    done = evolver("eval", "compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "2 gained, 2 lost, 2 same, 1 only in A" in lines[0]
    learns = next(line for line in lines if "│ learns " in line)
    for cell in ("1.00×", "3.00×", "nothing committed", "correct ≥ 1.1×", "newly solved"):
        assert cell in learns
    assert learns.rstrip(" │").endswith("gained")
    breaks = next(line for line in lines if "│ breaks " in line)
    assert "new wrong commit" in breaks and breaks.rstrip(" │").endswith("lost")


def test_eval_refuses_bad_strategy_and_token_options_before_running(tmp_path: Path) -> None:
    cases = {
        ("--strategies", "mixed"): "--strategies: input should be 'varied' or 'single'",
        # the good ones pass, and the bad one is named
        ("--strategies", "single", "--max-tokens", "512", "--max-prompt-tokens", "10"): (
            "--max-prompt-tokens: input should be greater than or equal to 500"
        ),
    }
    for flags, message in cases.items():
        done = evolver("eval", *flags, "--tasks-dir", str(tmp_path), "--out", str(tmp_path / "o"))
        assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "o").exists()

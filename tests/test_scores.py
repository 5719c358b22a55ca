"""The eval's scores: per-task flags, the overall scores, and the Markdown, SVG and comparison."""

from __future__ import annotations

import itertools
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evals import chart, compare, harness, results, scores, tables
from evals.results import TaskResult, as_results

SVG = "{http://www.w3.org/2000/svg}"


def result(task: str = "t", **fields: Any) -> dict[str, Any]:
    """A task's result JSON: by default a rules task with a 4× reference and nothing committed."""
    data: dict[str, Any] = {
        "task": task,
        "kind": "rules",
        "tags": ["algorithms"],
        "target": "pkg/m.py::f",
        "status": "ok",
        "error": None,
        "committed": False,
        "hidden_tests": None,
        "hidden_failures": [],
        "speedup": 1.0,
        "speedup_interval": None,
        "claimed_speedup": None,
        "reference_speedup": 4.0,
        "reference_interval": None,
        "stored_reference_speedup": None,
        "reference_timing": "measured",
        "reference_error": None,
        "candidates": [],
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
        "wall_seconds": 1.0,
    }
    data.update(fields)
    if data["reference_speedup"] is None and "reference_timing" not in fields:
        data["reference_timing"] = None
    return data


def correct(task: str = "t", speedup: float = 2.0, **fields: Any) -> dict[str, Any]:
    return result(task, committed=True, hidden_tests="passed", speedup=speedup, **fields)


def wrong(task: str = "t", speedup: float = 3.0, **fields: Any) -> dict[str, Any]:
    return result(
        task,
        committed=True,
        hidden_tests="failed",
        hidden_failures=["tests/test_hidden.py::test_empty"],
        speedup=speedup,
        **fields,
    )


def flags(data: dict[str, Any]) -> dict[str, Any]:
    task = TaskResult.from_json(data)
    return {
        "wrong_commit": task.wrong_commit,
        "correct_speedup": task.correct_speedup,
        "solved": task.solved,
        "scored_speedup": task.scored_speedup,
        "reference_share": task.reference_share,
        "reaches_reference": task.reaches_reference,
        "outcome": task.outcome,
    }


# --- TaskResult ---------------------------------------------------------------------------------


def test_json_round_trips_exactly() -> None:
    data = correct(
        speedup_interval=[1.8, 2.2],
        claimed_speedup=2.1,
        tags=["text", "hashing"],
        reference_interval=[3.8, 4.2],
        stored_reference_speedup=5.1,
        candidates=[
            {
                "summary": "dict lookup",
                "stage": "benchmark",
                "accepted": True,
                "reason": "2.0×",
                "strategy": "data-structure",
                "committed": True,
            },
            {
                "summary": "sort once",
                "stage": "tests",
                "accepted": False,
                "reason": "failed",
                "strategy": None,
                "committed": False,
            },
        ],
        input_tokens=1200,
        output_tokens=340,
        cost_usd=0.0123,
    )
    task = TaskResult.from_json(data)
    assert task.to_json() == data
    assert list(task.to_json()) == list(data)  # the same keys in the same order
    assert json.loads(json.dumps(task.to_json())) == data
    assert task.candidates_accepted == 1
    assert task.reference_interval == (3.8, 4.2) and task.reference_timing == "measured"
    assert task.candidates[0].strategy == "data-structure" and task.candidates[0].committed


def test_missing_optional_keys_default_to_nothing_done() -> None:
    task = TaskResult.from_json({"task": "t", "kind": "model"})
    assert (task.status, task.committed, task.speedup) == ("ok", False, 1.0)
    assert task.hidden_tests is None
    assert (task.reference_speedup, task.candidates, task.cost_usd) == (None, (), 0.0)
    assert TaskResult.from_json({"task": "t", "kind": "model", "error": "boom"}).status == "error"
    assert TaskResult.from_json({"task": "t", "kind": "none", "speedup": None}).speedup == 1.0


@pytest.mark.parametrize(
    "data",
    [
        {"task": "t"},
        {"kind": "rules"},
        result(kind="llm"),
        result(status="crashed"),
        result(hidden_tests="maybe"),
        result(speedup=0.0),
        result(speedup=float("nan")),
        result(reference_speedup=-2.0),
        result(speedup_interval=[1.0]),
        result(reference_interval=[2.0, 3.0, 4.0]),
        result(reference_interval="ab"),
        result(reference_timing="guessed"),
        result(stored_reference_speedup=[2.0]),
        result(candidates=[3]),
    ],
)
def test_malformed_results_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TaskResult.from_json(data)


# --- the derived flags ---------------------------------------------------------------------------


def test_nothing_committed_is_not_solved_and_shares_one_over_the_reference() -> None:
    assert flags(result()) == {
        "wrong_commit": False,
        "correct_speedup": False,
        "solved": False,
        "scored_speedup": 1.0,
        "reference_share": 0.25,
        "reaches_reference": False,
        "outcome": "nothing",
    }


def test_a_wrong_commit_counts_one_whatever_its_speedup() -> None:
    assert flags(wrong(speedup=5.0)) == {
        "wrong_commit": True,
        "correct_speedup": False,
        "solved": False,
        "scored_speedup": 1.0,
        "reference_share": 0.25,
        "reaches_reference": False,
        "outcome": "wrong_commit",
    }


def test_a_correct_speedup_needs_1_1x_and_the_hidden_tests() -> None:
    assert flags(correct(speedup=1.1))["correct_speedup"]
    small = flags(correct(speedup=1.09))
    assert not small["correct_speedup"] and not small["solved"]
    assert small["outcome"] == "too_small" and small["scored_speedup"] == 1.09
    slower = flags(correct(speedup=0.8))
    assert slower["scored_speedup"] == 0.8  # a slowdown that passed is counted as one
    unchecked = flags(result(committed=True, hidden_tests=None, speedup=3.0))
    assert unchecked["outcome"] == "unchecked" and not unchecked["solved"]
    assert unchecked["scored_speedup"] == 1.0


def test_kind_none_is_solved_by_committing_nothing() -> None:
    held = flags(result(kind="none", reference_speedup=None))
    assert held["solved"] and held["outcome"] == "held_back"
    assert held["reference_share"] is None and not held["reaches_reference"]
    tempted = flags(wrong(kind="none", reference_speedup=None, speedup=1.3))
    assert tempted["wrong_commit"] and not tempted["solved"]
    small = flags(correct(kind="none", reference_speedup=None, speedup=1.02))
    assert not small["solved"] and small["outcome"] == "too_small"


def test_an_error_is_never_solved_but_a_wrong_commit_still_counts() -> None:
    failed = flags(result(kind="none", reference_speedup=None, status="error", error="boom"))
    assert not failed["solved"] and failed["outcome"] == "error"
    late = flags(correct(speedup=3.0, status="error", error="timing crashed"))
    assert not late["correct_speedup"] and late["scored_speedup"] == 1.0
    assert late["outcome"] == "error"
    both = flags(wrong(status="error", error="x"))
    assert both["wrong_commit"] and both["outcome"] == "wrong_commit"


def test_reaching_the_reference_is_95_percent_of_it_and_correct() -> None:
    assert flags(correct(speedup=3.8))["reaches_reference"]  # exactly 95% of 4.0
    assert not flags(correct(speedup=3.79))["reaches_reference"]
    assert flags(correct(speedup=6.0))["reaches_reference"]  # beating it reaches it
    assert flags(correct(speedup=6.0))["reference_share"] == 1.5
    assert not flags(wrong(speedup=4.0))["reaches_reference"]
    # a share of the reference that is large but below 1.1× is no correct speedup
    assert not flags(correct(speedup=1.05, reference_speedup=1.08))["reaches_reference"]


# --- the overall scores -------------------------------------------------------------------------


def test_averages_on_known_numbers() -> None:
    averages = scores.averages([1.0, 2.0, 4.0])
    assert averages["geomean"] == pytest.approx(2.0)
    assert averages["harmonic"] == pytest.approx(3 / (1 + 0.5 + 0.25))
    assert averages["median"] == 2.0
    assert averages["mean"] == pytest.approx(7 / 3)
    assert scores.averages([1.0, 3.0])["median"] == 2.0
    assert scores.averages([]) == {
        "geomean": None,
        "harmonic": None,
        "median": None,
        "mean": None,
    }


def corpus() -> list[dict[str, Any]]:
    return [
        correct("a", speedup=2.0, reference_speedup=2.0, cost_usd=0.5, input_tokens=100),
        correct("b", speedup=4.0, reference_speedup=8.0, kind="model", output_tokens=50),
        wrong("c", speedup=9.0, reference_speedup=9.0, kind="model", cost_usd=0.25),
        result("d", reference_speedup=4.0, wall_seconds=7.0),
        result("e", kind="none", reference_speedup=None),
        result("f", kind="model", status="error", error="boom", reference_speedup=2.0),
    ]


def test_summary_of_a_known_run() -> None:
    totals = scores.summary(corpus())
    assert totals["tasks"] == 6 and totals["errors"] == 1 and totals["committed"] == 3
    assert totals["solved"] == {"count": 3, "of": 6, "share": 0.5}  # a, b and e
    assert totals["correct_speedup"] == {"count": 2, "of": 5, "share": 0.4}
    assert totals["wrong_commits"] == 1
    # scored speedups: 2, 4, 1 (wrong), 1, 1, 1 (error)
    assert totals["speedup"]["geomean"] == pytest.approx(8 ** (1 / 6), abs=1e-6)
    assert totals["speedup"]["median"] == 1.0
    assert totals["speedup"]["mean"] == pytest.approx(10 / 6, abs=1e-6)
    assert totals["speedup"]["harmonic"] == pytest.approx(6 / (0.5 + 0.25 + 4), abs=1e-6)
    assert totals["opt_at_1"] == {"count": 1, "of": 5, "share": 0.2}  # only a
    shares = [1.0, 0.5, 1 / 9, 0.25, 0.5]
    expected = math.exp(sum(map(math.log, shares)) / len(shares))
    assert totals["reference_share_geomean"] == pytest.approx(expected, abs=1e-6)
    assert totals["cost_usd"] == {"total": 0.75, "per_task": 0.125}
    assert totals["tokens"] == {"input": 100, "output": 50, "total": 150}
    assert totals["wall_seconds"] == {"total": 12.0, "mean": 2.0}
    assert totals["by_kind"]["rules"] == {"tasks": 2, "solved": 1, "speedup_geomean": 1.414214}
    assert totals["by_kind"]["model"]["tasks"] == 3 and totals["by_kind"]["model"]["solved"] == 1
    assert totals["by_kind"]["none"] == {"tasks": 1, "solved": 1, "speedup_geomean": 1.0}
    json.dumps(totals)  # JSON-able


def test_a_class_task_is_scored_on_time_and_listed_when_a_run_has_one() -> None:
    tasks = [correct("index", 3.0, kind="class"), result("plain")]
    totals = scores.summary(tasks)
    assert totals["solved"] == {"count": 1, "of": 2, "share": 0.5}
    assert totals["by_kind"]["class"] == {"tasks": 1, "solved": 1, "speedup_geomean": 3.0}
    assert "class" not in scores.summary([result("plain")])["by_kind"]
    text = tables.markdown(run("oracle", tasks))
    assert "| index | class | correct ≥ 1.1× |" in text and "| class | 1 | 1 | 3.00× |" in text


def test_summary_of_nothing_has_no_shares() -> None:
    totals = scores.summary([])
    assert totals["tasks"] == 0 and totals["solved"]["share"] is None
    assert totals["speedup"]["geomean"] is None and totals["cost_usd"]["per_task"] is None
    assert scores.summary([TaskResult.from_json(result())]) == scores.summary([result()])


# --- Markdown -----------------------------------------------------------------------------------


def run(provider: str, tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"provider": provider, "options": {}, "tasks": tasks, **extra}


def test_markdown_has_a_row_per_task_and_the_overall_table() -> None:
    text = tables.markdown(run("rules", [*corpus(), result("pipe|<b>name")]))
    rows = {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ")}
    for name in "abcdef":
        assert name in rows
    assert "correct ≥ 1.1×" in rows["a"] and "2.00×" in rows["a"] and "100%" in rows["a"]
    assert "wrong commit" in rows["c"] and "~~9.00×~~" in rows["c"] and "failed (1)" in rows["c"]
    assert "rightly nothing" in rows["e"]
    assert "error" in rows["f"]
    assert r"pipe\|\<b\>name" in rows  # escaped, so the table keeps its columns
    assert rows[r"pipe\|\<b\>name"].count(" | ") == rows["a"].count(" | ")
    assert "## Overall" in text
    assert "| Wrong commits (must be 0) | 1 |" in text
    assert "| Solved | 3/7 (43%) |" in text
    assert "| Speedup, harmonic mean |" in text and "| Speedup, median |" in text
    assert "## Wrong commits" in text and "test\\_empty" in text
    assert "## Errors" in text and "boom" in text
    assert text.startswith("# Evolver eval: rules\n")


def test_markdown_names_the_model() -> None:
    text = tables.markdown(run("openai", [correct()], options={"model": "gpt-x"}))
    assert text.startswith("# Evolver eval: openai / gpt-x\n")


# --- the chart ----------------------------------------------------------------------------------


def test_chart_is_xml_with_one_bar_per_task_and_escaped_names() -> None:
    tasks = [*corpus(), correct("<&> \"odd\" 'name'", speedup=0.5)]
    svg = chart.chart_svg(tasks, title="rules <vs> oracle & co")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    rects = list(root.iter(f"{SVG}rect"))
    bars = [r for r in rects if "bar" in (r.get("class") or "").split()]
    assert len(bars) == len(tasks)
    assert [b.get("class") for b in bars][2] == "bar wrong_commit"
    assert all(float(b.get("width") or 0) >= 2 for b in bars)
    references = [r for r in rects if r.get("class") == "reference"]
    assert len(references) == 6  # all but "e", of kind none
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<&> \"odd\" 'name'" in texts
    assert "rules <vs> oracle & co" in texts
    assert "<&>" not in svg and "<vs>" not in svg
    assert not list(root.iter(f"{SVG}script"))
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert {"1×", "2×", "10×"} <= set(texts)


def test_chart_of_nothing_still_parses() -> None:
    root = ET.fromstring(chart.chart_svg([]))
    assert "No tasks." in [t.text for t in root.iter(f"{SVG}text")]


def test_chart_scales_to_a_corpus() -> None:
    tasks = [correct(f"task-{i}", speedup=1.2**i, reference_speedup=1.3**i) for i in range(35)]
    root = ET.fromstring(chart.chart_svg(tasks))
    bars = [r for r in root.iter(f"{SVG}rect") if (r.get("class") or "").startswith("bar ")]
    assert len(bars) == 35
    ys = [float(b.get("y") or 0) for b in bars]
    assert ys == sorted(ys) and min(b - a for a, b in itertools.pairwise(ys)) >= 18
    labels = [t for t in root.iter(f"{SVG}text") if (t.text or "").endswith("×")]
    assert any(t.text == "1000×" for t in labels)


# --- comparing two runs -------------------------------------------------------------------------


def test_compare_flags_a_new_wrong_commit_and_improvements() -> None:
    a = run(
        "rules",
        [
            correct("steady", speedup=2.0),
            correct("breaks", speedup=2.0),
            result("learns"),
            correct("speeds", speedup=2.0, reference_speedup=8.0),
            correct("slips", speedup=3.0),
            result("gone"),
        ],
    )
    b = run(
        "openai",
        [
            correct("steady", speedup=2.05),
            wrong("breaks", speedup=5.0),
            correct("learns", speedup=3.0),
            correct("speeds", speedup=6.0, reference_speedup=8.0),
            result("slips"),
            result("new"),
        ],
        options={"model": "gpt-x"},
    )
    found = compare.comparison(a, b)
    verdicts = {row["task"]: row["verdict"] for row in found.tasks}
    assert verdicts == {
        "steady": "same",
        "breaks": "new wrong commit",
        "learns": "newly solved",
        "speeds": "faster",
        "slips": "regressed",
        "gone": "only in A",
        "new": "only in B",
    }
    assert (found.label_a, found.label_b) == ("rules", "openai / gpt-x")
    speeds = next(row for row in found.tasks if row["task"] == "speeds")
    assert (speeds["speedup_a"], speeds["speedup_b"], speeds["change"]) == (2.0, 6.0, 3.0)
    overall = {row["metric"]: row for row in found.overall}
    assert (overall["wrong_commits"]["a"], overall["wrong_commits"]["b"]) == (0, 1)
    assert overall["wrong_commits"]["difference"] == 1
    assert overall["wrong_commits"]["improved"] is False
    assert overall["wrong_commits"]["difference_text"] == "+1"
    assert overall["solved"]["difference_text"] == "−1, −16.7 pp"
    assert overall["tasks"]["improved"] is None
    json.dumps(found.to_json())

    table, text = compare.compare(a, b)
    console = Console(record=True, width=200)
    console.print(table)
    shown = console.export_text()
    assert "new wrong commit" in shown and "newly solved" in shown and "openai / gpt-x" in shown
    assert "| breaks | rules | 2.00× | 1.00× | ÷2.00 | correct ≥ 1.1× | wrong commit |" in text
    assert "| speeds | rules | 2.00× | 6.00× | ×3.00 |" in text
    assert "| steady | rules | 2.00× | 2.05× | +2% |" in text
    assert "**new wrong commit**" in text and "## Overall" in text
    assert "| Wrong commits (must be 0) | 0 | 1 | +1 |" in text


def test_compare_of_a_wrong_commit_fixed_or_kept() -> None:
    a = run("x", [wrong("kept"), wrong("fixed"), wrong("solved")])
    b = run("y", [wrong("kept"), result("fixed"), correct("solved")])
    verdicts = {row["task"]: row["verdict"] for row in compare.comparison(a, b).tasks}
    assert verdicts == {
        "kept": "still wrong commit",
        "fixed": "wrong commit fixed",
        "solved": "newly solved",
    }


def test_rich_tables_show_markup_literally() -> None:
    console = Console(record=True, width=250)
    console.print(tables.run_rich(run("rules", [correct("[bold]x[/bold]")])))
    assert "[bold]x[/bold]" in console.export_text()


# --- files --------------------------------------------------------------------------------------


def test_write_outputs_and_load_run(tmp_path: Path) -> None:
    made = scores.make_run("rules", None, corpus(), finished="2026-01-01T00:00:00+00:00")
    paths = harness.write_outputs(made, tmp_path / "out")
    names = sorted(path.name for path in paths.values())
    assert names == ["chart.svg", "results.json", "results.md"]
    loaded = results.load_run(paths["json"])
    assert loaded["tasks"] == corpus()
    assert loaded["summary"] == scores.summary(corpus())
    assert loaded["finished"] == "2026-01-01T00:00:00+00:00"
    ET.parse(paths["chart"])
    assert "| a | rules |" in paths["markdown"].read_text(encoding="utf-8")
    assert not list((tmp_path / "out").glob("*.part"))
    as_objects = {**made, "tasks": as_results(corpus())}
    again = harness.write_outputs(as_objects, tmp_path / "again")
    assert results.load_run(again["json"])["tasks"] == corpus()
    (tmp_path / "bad.json").write_text('{"provider": "x"}')
    with pytest.raises(ValueError):
        results.load_run(tmp_path / "bad.json")

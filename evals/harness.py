"""``evolver eval``: run the agent over the corpus, score it, and keep going after a stop.

Each finished task is written to ``OUT/tasks/<name>.json`` at once, so an interrupted eval
resumes where it stopped: a rerun with the same settings and ``--out`` skips the tasks
already there. The whole run is written as ``results.json``, ``results.md`` and
``chart.svg`` (see ``evals/scores.py``).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.errors import UsageError
from evals import results, scores
from evals.chart import chart_svg
from evals.corpus import Task
from evals.executors import Executor
from evals.run_task import EvalSettings, run_task
from evals.tables import markdown


def run_eval(
    tasks: list[Task],
    settings: EvalSettings,
    executor: Executor,
    out: Path,
    on_done: Callable[[Task, dict[str, Any]], None] = lambda task, result: None,
) -> dict[str, Any]:
    """Run the tasks not yet done in ``out``; return the whole run (all tasks) as data."""
    done_dir = out / "tasks"
    done_dir.mkdir(parents=True, exist_ok=True)
    _claim(out, settings)
    done = {task.name: _load(done_dir / f"{task.name}.json") for task in tasks}
    todo = [task for task in tasks if done[task.name] is None]
    started = time.monotonic()
    for task, result in executor.map(functools.partial(run_task, settings=settings), todo):
        _write(done_dir / f"{task.name}.json", json.dumps(result, indent=2, default=str))
        done[task.name] = result
        on_done(task, result)
    run = scores.make_run(
        settings.provider,
        settings.options.get("model"),
        [result for result in done.values() if result is not None],
        version=1,
        options=settings.options,
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        wall_seconds=round(time.monotonic() - started, 1),
        resumed=len(tasks) - len(todo),
    )
    write_outputs(run, out)
    return run


def write_outputs(run: Mapping[str, Any], out_dir: Path | str) -> dict[str, Path]:
    """Write ``results.json`` (the run, with its summary recomputed), ``results.md`` and
    ``chart.svg`` into ``out_dir`` (made if missing); return their paths by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = results.as_results(run.get("tasks") or [])
    given = run.get("tasks") or []
    data = {
        **run,
        "tasks": [
            task.to_json() if isinstance(task, results.TaskResult) else task for task in given
        ],
        "summary": scores.summary(tasks),
    }
    title = f"Speedup per task against the reference: {scores.run_label(run)}"
    paths = {
        "json": out / "results.json",
        "markdown": out / "results.md",
        "chart": out / "chart.svg",
    }
    texts = {
        "json": json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
        "markdown": markdown(run),
        "chart": chart_svg(tasks, title=title),
    }
    for name, path in paths.items():
        _write(path, texts[name])
    return paths


def _claim(out: Path, settings: EvalSettings) -> None:
    """``out`` holds one run's settings: resuming with others would mix two evaluations."""
    marker = out / "settings.json"
    wanted = json.loads(json.dumps(settings.fingerprint(), default=str))
    if marker.exists():
        if json.loads(marker.read_text()) != wanted:
            raise UsageError(f"--out {out} holds an eval with other settings; choose another")
    else:
        _write(marker, json.dumps(wanted, indent=2))


def _load(path: Path) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # never a half-written file to resume from or to read

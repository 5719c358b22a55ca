"""``evolver eval``: run the agent over the corpus, score it, and keep going after a stop.

Each finished task is written to ``OUT/tasks/<name>.json`` at once, so an interrupted eval
resumes where it stopped: a rerun with the same settings and ``--out`` skips the tasks
already there. The whole run is written as ``results.json``, ``results.md`` and
``chart.svg`` (see ``evals/scoreboard.py``).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.errors import UsageError
from evals import scoreboard
from evals.corpus import Task
from evals.executors import Executor
from evals.run_task import EvalSettings, run_task


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
        _write(done_dir / f"{task.name}.json", result)
        done[task.name] = result
        on_done(task, result)
    run = scoreboard.make_run(
        settings.provider,
        settings.options.get("model"),
        [result for result in done.values() if result is not None],
        version=1,
        options=settings.options,
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        wall_seconds=round(time.monotonic() - started, 1),
        resumed=len(tasks) - len(todo),
    )
    scoreboard.write_outputs(run, out)
    return run


def _claim(out: Path, settings: EvalSettings) -> None:
    """``out`` holds one run's settings: resuming with others would mix two evaluations."""
    marker = out / "settings.json"
    wanted = json.loads(json.dumps(settings.fingerprint(), default=str))
    if marker.exists():
        if json.loads(marker.read_text()) != wanted:
            raise UsageError(f"--out {out} holds an eval with other settings; choose another")
    else:
        _write(marker, wanted)


def _load(path: Path) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result


def _write(path: Path, data: Any) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(data, indent=2, default=str))
    partial.replace(path)  # never a half-written result to resume from

"""The scores of ``evolver eval``: a run's task results (``evals/results.py``) summed up.

Everything here is pure (data in, data out); ``evals/harness.py`` writes and reads runs. A
*run* is a dict: ``{"provider", "model" (or ``options.model``), "tasks": [task result dicts],
"summary": {...}, ...}``; the tasks are the source of truth. Its renderings are in
``evals/tables.py`` (Markdown, rich tables), ``evals/chart.py`` (SVG) and ``evals/compare.py``
(two runs side by side).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agent.providers.strategies import strategies as prompt_strategies
from evals.results import MEMORY, UNLABELLED, TaskResult, as_results, kinds_of


def rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _geomean(values: Sequence[float]) -> float | None:
    return statistics.geometric_mean(values) if values else None


def averages(values: Sequence[float]) -> dict[str, float | None]:
    """Geometric, harmonic and arithmetic means and the median of positive numbers (None
    each when there are none): one average alone misleads."""
    if not values:
        return {"geomean": None, "harmonic": None, "median": None, "mean": None}
    return {
        "geomean": rounded(statistics.geometric_mean(values)),
        "harmonic": rounded(statistics.harmonic_mean(values)),
        "median": rounded(statistics.median(values)),
        "mean": rounded(statistics.fmean(values)),
    }


def _fraction(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": rounded(count / of) if of else None}


def _gains(tasks: Sequence[TaskResult]) -> dict[str, Any]:
    """The scores of tasks of one objective, on it: correct gains and Opt@1 over those that
    have a reference, the averages of the scored gains, the share of the reference."""
    referenced = [task for task in tasks if task.reference_gain is not None]
    shares = [task.reference_share for task in referenced]
    return {
        "correct": _fraction(sum(task.correct for task in referenced), len(referenced)),
        "averages": averages([task.scored_gain for task in tasks]),
        "opt_at_1": _fraction(sum(task.reaches_reference for task in referenced), len(referenced)),
        "reference_share_geomean": rounded(_geomean([s for s in shares if s is not None])),
        "reference_measured": _fraction(
            sum(task.reference_timing == "measured" for task in referenced), len(referenced)
        ),
    }


def summary(results: Iterable[TaskResult | Mapping[str, Any]]) -> dict[str, Any]:
    """The overall scores of a run, as JSON-able data.

    ``solved`` is over all tasks; ``correct_speedup`` and ``opt_at_1`` over the tasks scored
    on time that have a reference (``{"count", "of", "share"}``, share None when ``of`` is 0).
    The ``speedup`` averages are of the scored speedups of all tasks scored on time. When some
    tasks are scored on memory (kind ``memory``), ``memory`` holds theirs: ``correct`` (a
    saving of at least 1.1×), the ``ratio`` averages of their scored peak memory ratios,
    ``opt_at_1``, ``reference_share_geomean`` and ``reference_measured``."""
    tasks = as_results(results)
    count = len(tasks)
    time = _gains([task for task in tasks if task.objective == "time"])
    memory = [task for task in tasks if task.objective == MEMORY]
    input_tokens = sum(task.input_tokens for task in tasks)
    output_tokens = sum(task.output_tokens for task in tasks)
    cost = sum(task.cost_usd for task in tasks)
    wall = sum(task.wall_seconds for task in tasks)
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in kinds_of(tasks):
        of_kind = [task for task in tasks if task.kind == kind]
        by_kind[kind] = {
            "tasks": len(of_kind),
            "solved": sum(task.solved for task in of_kind),
            "speedup_geomean": rounded(_geomean([task.scored_speedup for task in of_kind])),
        }
        if kind == MEMORY:
            by_kind[kind]["memory_ratio_geomean"] = rounded(
                _geomean([task.scored_gain for task in of_kind])
            )
    scores = {
        "tasks": count,
        "errors": sum(task.status == "error" for task in tasks),
        "committed": sum(task.committed for task in tasks),
        "solved": _fraction(sum(task.solved for task in tasks), count),
        "correct_speedup": time["correct"],
        "wrong_commits": sum(task.wrong_commit for task in tasks),
        "speedup": time["averages"],
        "opt_at_1": time["opt_at_1"],
        "reference_share_geomean": time["reference_share_geomean"],
        "cost_usd": {"total": rounded(cost), "per_task": rounded(cost / count) if count else None},
        "tokens": {
            "input": input_tokens,
            "output": output_tokens,
            "total": input_tokens + output_tokens,
        },
        "wall_seconds": {
            "total": rounded(wall, 2),
            "mean": rounded(wall / count, 2) if count else None,
        },
        "by_kind": by_kind,
        "reference_measured": time["reference_measured"],
        "strategies": strategy_counts(tasks),
    }
    if memory:
        gains = _gains(memory)
        scores["memory"] = {
            "tasks": len(memory),
            "correct": gains["correct"],
            "ratio": gains["averages"],
            "opt_at_1": gains["opt_at_1"],
            "reference_share_geomean": gains["reference_share_geomean"],
            "reference_measured": gains["reference_measured"],
        }
    return scores


# ---------------------------------------------------------------------------------------------
# Strategies


def _zero() -> dict[str, int]:
    return {"tried": 0, "accepted": 0, "committed": 0, "won": 0}


def _count_strategies(tasks: Iterable[TaskResult]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for task in tasks:
        winners: set[str] = set()
        for candidate in task.candidates:
            for name in candidate.strategies:
                row = counts.setdefault(name, _zero())
                row["tried"] += 1
                row["accepted"] += candidate.accepted
                row["committed"] += candidate.committed
                if candidate.committed:
                    winners.add(name)
        # A task is won once per strategy, however many of its rounds that strategy won.
        if task.correct:
            for name in winners:
                counts[name]["won"] += 1
    return counts


def _strategy_order(names: Iterable[str]) -> list[str]:
    """The prompts' order (algorithm first), then unknown labels alphabetically, then
    ``UNLABELLED``."""
    known = [strategy.name for strategy in prompt_strategies()]
    given = set(names)
    ordered = [name for name in known if name in given]
    ordered += sorted(given - set(known) - {UNLABELLED})
    return ordered + ([UNLABELLED] if UNLABELLED in given else [])


def strategy_counts(results: Iterable[TaskResult | Mapping[str, Any]]) -> dict[str, Any]:
    """Which strategies were tried and which won, overall and per task kind.

    ``{"overall": {strategy: counts}, "by_kind": {kind: {strategy: counts}}}``, where counts
    is ``{"tried", "accepted", "committed", "won"}``: candidates that followed the strategy,
    those accepted by the checks, those committed, and tasks where a committed candidate of
    that strategy made a correct speedup (a correct saving, for a task scored on memory). A
    candidate labelled with several strategies ("builtins+data-structure", a rules candidate)
    counts for each; a candidate with none counts as ``UNLABELLED``. Every kind lists the same
    strategies as ``overall``, in the prompts' order."""
    tasks = as_results(results)
    overall = _count_strategies(tasks)
    names = _strategy_order(overall)
    by_kind = {}
    for kind in kinds_of(tasks):
        counts = _count_strategies(task for task in tasks if task.kind == kind)
        by_kind[kind] = {name: counts.get(name, _zero()) for name in names}
    return {"overall": {name: overall[name] for name in names}, "by_kind": by_kind}


# ---------------------------------------------------------------------------------------------
# Runs and their files


def _model(run: Mapping[str, Any]) -> str | None:
    model = run.get("model")
    options = run.get("options")
    if model is None and isinstance(options, Mapping):
        model = options.get("model")
    return None if model is None else str(model)


def run_label(run: Mapping[str, Any]) -> str:
    """``provider`` or ``provider / model``."""
    provider = str(run.get("provider") or "?")
    model = _model(run)
    return f"{provider} / {model}" if model else provider


def make_run(
    provider: str,
    model: str | None,
    results: Iterable[TaskResult | Mapping[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """A run as data: provider, model, the tasks' JSON, their summary, and ``extra``."""
    tasks = as_results(results)
    return {
        "provider": provider,
        "model": model,
        **extra,
        "tasks": [task.to_json() for task in tasks],
        "summary": summary(tasks),
    }

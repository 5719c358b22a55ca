"""Radon's measures of one function: complexity, Halstead effort, maintainability."""

from __future__ import annotations

from radon.complexity import cc_visit
from radon.metrics import h_visit, mi_visit

from agent.domain import Metrics


def measure(function_source: str) -> Metrics:
    """Metrics of a single (dedented) function definition."""
    blocks = cc_visit(function_source)
    complexity = max((b.complexity for b in blocks), default=1)
    halstead = h_visit(function_source).total
    return Metrics(
        complexity=int(complexity),
        halstead_effort=round(float(halstead.effort), 1),
        maintainability=round(float(mi_visit(function_source, multi=True)), 1),
        lines=function_source.count("\n") + 1,
    )

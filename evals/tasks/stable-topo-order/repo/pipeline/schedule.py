"""Ordering the steps of a data pipeline."""

from __future__ import annotations


def run_order(steps: list[str], requires: dict[str, list[str]]) -> list[str]:
    """The steps in the order to run them: every step after the steps it requires, and among
    the steps that could run next, always the one listed first in ``steps``.

    ``requires`` maps a step to the steps it needs (steps missing from it need nothing; keys
    that are not steps are ignored). Raises ``ValueError`` for a duplicate step, for a
    requirement that is not a step, and for a cycle (naming the steps that cannot run).
    """
    seen = set()
    for step in steps:
        if step in seen:
            raise ValueError(f"duplicate step {step!r}")
        seen.add(step)
    for step in steps:
        for needed in requires.get(step, []):
            if needed not in seen:
                raise ValueError(f"step {step!r} requires unknown step {needed!r}")
    done: set[str] = set()
    order: list[str] = []
    while len(order) < len(steps):
        for step in steps:
            if step not in done and all(needed in done for needed in requires.get(step, [])):
                order.append(step)
                done.add(step)
                break
        else:
            stuck = [step for step in steps if step not in done]
            raise ValueError(f"cycle among steps: {', '.join(stuck)}")
    return order

"""Ordering the steps of a data pipeline."""

from __future__ import annotations

import heapq


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
    # Kahn's algorithm with a heap of positions: the ready step listed first is always the
    # smallest position on the heap, which is what rescanning ``steps`` from the top found.
    position = {step: index for index, step in enumerate(steps)}
    waiting = [0] * len(steps)
    followers: list[list[int]] = [[] for _ in steps]
    for index, step in enumerate(steps):
        for needed in requires.get(step, []):
            waiting[index] += 1
            followers[position[needed]].append(index)
    ready = [index for index, count in enumerate(waiting) if count == 0]  # already a heap
    order: list[str] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(steps[index])
        for follower in followers[index]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, follower)
    if len(order) < len(steps):
        done = set(order)
        stuck = [step for step in steps if step not in done]
        raise ValueError(f"cycle among steps: {', '.join(stuck)}")
    return order

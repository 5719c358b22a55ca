"""Build steps and the order to run them in."""

from __future__ import annotations

from collections import deque


class TaskGraph:
    """Build steps and their prerequisites: ``depends(a, b)`` means ``b`` must run before ``a``.

    Steps remember the order they were added in; that order breaks ties.
    """

    def __init__(self) -> None:
        self._steps: list[str] = []
        self._requires: dict[str, list[str]] = {}

    def add(self, step: str) -> None:
        """Add a step (adding one twice changes nothing)."""
        if step not in self._requires:
            self._steps.append(step)
            self._requires[step] = []

    def depends(self, step: str, prerequisite: str) -> None:
        """Record that ``prerequisite`` must run before ``step``; adds both if new."""
        self.add(step)
        self.add(prerequisite)
        self._requires[step].append(prerequisite)

    def __len__(self) -> int:
        return len(self._steps)

    def order(self) -> list[str]:
        """Every step, each after its prerequisites (Kahn's algorithm).

        Steps that become runnable together run in the order they became runnable, and the
        ones runnable from the start run in the order they were added. Raises ``ValueError``
        naming the steps left over when the prerequisites form a cycle.
        """
        waiting = {step: len(self._requires[step]) for step in self._steps}
        unlocks: dict[str, list[str]] = {step: [] for step in self._steps}
        for step in self._steps:
            for prerequisite in self._requires[step]:
                unlocks[prerequisite].append(step)
        ready = deque([step for step in self._steps if waiting[step] == 0])
        order = []
        while ready:
            step = ready.popleft()  # O(1); list.pop(0) shifts the whole ready list
            order.append(step)
            for follower in unlocks[step]:
                waiting[follower] -= 1
                if waiting[follower] == 0:
                    ready.append(follower)
        if len(order) != len(self._steps):
            stuck = [step for step in self._steps if waiting[step] > 0]
            raise ValueError(f"dependency cycle among: {', '.join(stuck)}")
        return order

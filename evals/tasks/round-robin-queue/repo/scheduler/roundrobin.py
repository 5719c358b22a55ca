"""Round-robin scheduling, simulated one time slice at a time."""

from __future__ import annotations


def completion_order(jobs: list[tuple[str, int]], quantum: int) -> list[str]:
    """The order in which ``jobs`` finish under round-robin scheduling.

    Each job is ``(name, work)``. Jobs wait in one queue, in the given order; the job at the
    front runs for up to ``quantum`` units, then finishes (if its remaining work fits in the
    slice) or goes to the back of the queue with ``quantum`` units less to do. A job with no
    work left (``work <= 0``) finishes as soon as it reaches the front. Raises ``ValueError``
    unless ``quantum`` is positive.
    """
    if quantum <= 0:
        raise ValueError(f"quantum must be positive, got {quantum}")
    queue = list(jobs)
    finished = []
    while queue:
        name, remaining = queue.pop(0)
        if remaining > quantum:
            queue.append((name, remaining - quantum))
        else:
            finished.append(name)
    return finished

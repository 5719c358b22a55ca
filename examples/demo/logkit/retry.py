"""Retry policies."""

from __future__ import annotations


def backoff_schedules(attempts: int, budget: int) -> int:
    """How many retry schedules spend exactly ``budget`` seconds over ``attempts`` retries.

    A schedule is the ordered list of waits before each retry; every wait is a whole
    number of seconds from 1 to 8. Used to size the search space when tuning a policy.
    """
    if attempts == 0:
        return 1 if budget == 0 else 0
    if budget < attempts:
        return 0
    total = 0
    for wait in range(1, min(8, budget - attempts + 1) + 1):
        total += backoff_schedules(attempts - 1, budget - wait)
    return total

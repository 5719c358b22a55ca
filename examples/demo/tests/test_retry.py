import itertools

import pytest

from logkit.retry import backoff_schedules


def schedules_by_polynomial(attempts, budget):
    """Coefficient of x**budget in (x + x**2 + ... + x**8) ** attempts."""
    coefficients = [1]
    for _ in range(attempts):
        nxt = [0] * (len(coefficients) + 8)
        for total, ways in enumerate(coefficients):
            for wait in range(1, 9):
                nxt[total + wait] += ways
        coefficients = nxt
    return coefficients[budget] if budget < len(coefficients) else 0


def test_no_attempts():
    assert backoff_schedules(0, 0) == 1
    assert backoff_schedules(0, 3) == 0


@pytest.mark.parametrize("budget", range(0, 11))
def test_one_attempt(budget):
    assert backoff_schedules(1, budget) == (1 if 1 <= budget <= 8 else 0)


def test_small_known_values():
    assert backoff_schedules(2, 2) == 1  # 1+1
    assert backoff_schedules(2, 3) == 2  # 1+2, 2+1
    assert backoff_schedules(2, 9) == 8
    assert backoff_schedules(2, 16) == 1  # 8+8
    assert backoff_schedules(2, 17) == 0
    assert backoff_schedules(3, 3) == 1
    assert backoff_schedules(3, 24) == 1
    assert backoff_schedules(3, 25) == 0


def test_budget_too_small():
    assert backoff_schedules(4, 3) == 0
    assert backoff_schedules(5, 0) == 0


@pytest.mark.parametrize("attempts", range(0, 5))
def test_matches_brute_force(attempts):
    counts = {}
    for waits in itertools.product(range(1, 9), repeat=attempts):
        counts[sum(waits)] = counts.get(sum(waits), 0) + 1
    for budget in range(0, 8 * attempts + 3):
        assert backoff_schedules(attempts, budget) == counts.get(budget, 0)


def test_matches_generating_function():
    for attempts in range(5, 7):
        for budget in range(attempts - 1, 20):
            assert backoff_schedules(attempts, budget) == schedules_by_polynomial(attempts, budget)


def test_symmetry():
    # Replacing every wait w by 9 - w maps budget b to 9 * attempts - b.
    for attempts in range(1, 5):
        for budget in range(0, 9 * attempts + 1):
            assert backoff_schedules(attempts, budget) == backoff_schedules(
                attempts, 9 * attempts - budget
            )

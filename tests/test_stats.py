from __future__ import annotations

import random

import pytest

from agent.verify.stats import speedup_interval


def noisy(mean: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, mean * 0.05) for _ in range(n)]


def test_clear_speedup_has_an_interval_around_it() -> None:
    speedup, (low, high) = speedup_interval(noisy(2.0, 20, 1), noisy(1.0, 20, 2))
    assert low < speedup < high
    assert low > 1.85 and high < 2.15


def test_no_difference_straddles_one() -> None:
    _, (low, high) = speedup_interval(noisy(1.0, 20, 3), noisy(1.0, 20, 4))
    assert low < 1.0 < high


def test_more_noise_widens_the_interval() -> None:
    rng = random.Random(5)
    calm = speedup_interval(noisy(1.5, 20, 6), noisy(1.0, 20, 7))[1]
    wild_a = [v * rng.uniform(0.6, 1.4) for v in noisy(1.5, 20, 8)]
    wild = speedup_interval(wild_a, noisy(1.0, 20, 9))[1]
    assert wild[1] - wild[0] > calm[1] - calm[0]


def test_same_samples_same_decision() -> None:
    a, b = noisy(1.2, 10, 10), noisy(1.0, 10, 11)
    assert speedup_interval(a, b) == speedup_interval(a, b)


def test_empty_side_is_an_error() -> None:
    with pytest.raises(ValueError):
        speedup_interval([], [1.0])


def processes(mean: float, count: int, values: int, rng: random.Random) -> list[float]:
    """Samples as the timing makes them: each process a few per cent off as a whole."""
    out = []
    for _ in range(count):
        offset = mean * rng.gauss(1.0, 0.03)
        out.extend(offset * rng.gauss(1.0, 0.005) for _ in range(values))
    return out


def test_correlated_values_widen_the_interval_by_process() -> None:
    rng = random.Random(12)
    a, b = processes(1.0, 6, 4, rng), processes(1.0, 6, 4, rng)
    flat = speedup_interval(a, b)[1]
    grouped = speedup_interval(a, b, per_process=4)[1]
    assert grouped[1] - grouped[0] > 1.5 * (flat[1] - flat[0])
    assert speedup_interval(a, b, per_process=4)[0] == speedup_interval(a, b)[0]


def test_identical_code_is_rarely_called_faster_when_resampled_by_process() -> None:
    """A/A: values of one process are not independent evidence. Resampled as if they were,
    identical code is called faster (lower end above 1.0) far more often than the 2.5% a 95%
    interval allows; resampled by process, about that often (scripts/bench-stats has more)."""
    rng = random.Random(13)
    pairs = [(processes(1.0, 6, 4, rng), processes(1.0, 6, 4, rng)) for _ in range(100)]
    flat = sum(speedup_interval(a, b, resamples=300)[1][0] > 1.0 for a, b in pairs)
    grouped = sum(
        speedup_interval(a, b, resamples=300, per_process=4)[1][0] > 1.0 for a, b in pairs
    )
    assert flat >= 8 and grouped <= 5, (flat, grouped)
    faster = [(a, [v / 1.3 for v in b]) for a, b in pairs[:10]]
    assert all(speedup_interval(a, b, per_process=4)[1][0] > 1.2 for a, b in faster)


def test_per_process_one_is_the_flat_bootstrap_and_groups_may_be_short() -> None:
    a, b = noisy(1.2, 10, 14), noisy(1.0, 10, 15)
    assert speedup_interval(a, b, per_process=1) == speedup_interval(a, b)
    low, high = speedup_interval(a, b, per_process=4)[1]  # groups of 4, 4 and 2
    assert low < 1.2 < high
    with pytest.raises(ValueError):
        speedup_interval(a, b, per_process=0)

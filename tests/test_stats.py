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

import math
import random
from fractions import Fraction

import pytest

from meters import mean


def exact(values):
    return float(sum(map(Fraction, values))) / len(values)


def test_cancellation_is_exact():
    # A plain left-to-right sum gives 0.0 here; the correctly rounded one gives 1.0.
    assert mean([1e16, 1.0, -1e16]) == 1.0 / 3
    assert mean([1e20, 1.0, -1e20, 3.0]) == 1.0
    assert mean([1.0, 3.0, 1e20, -1e20]) == 1.0


def test_order_does_not_matter():
    rng = random.Random(7)
    values = [rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-10, 10) for _ in range(2000)]
    shuffled = values[:]
    rng.shuffle(shuffled)
    assert mean(values) == mean(shuffled)


def test_tenths():
    assert mean([0.1] * 10) == 0.1


def test_random_against_exact_fractions():
    rng = random.Random(101)
    for size in (1, 2, 3, 10, 1000):
        values = [rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-8, 8) for _ in range(size)]
        assert mean(values) == exact(values)


def test_integers():
    out = mean([1, 2])
    assert out == 1.5 and type(out) is float


def test_infinities_and_nan():
    assert mean([math.inf, 1.0]) == math.inf
    assert math.isnan(mean([math.nan, 1.0]))
    with pytest.raises(ValueError):
        mean([math.inf, -math.inf])  # fsum's own error for inf - inf


def test_intermediate_overflow_is_fsums_error():
    with pytest.raises(OverflowError):
        mean([1e308, 1e308, -1e308])


def test_empty_message():
    with pytest.raises(ValueError, match="^mean of no readings$"):
        mean([])


def test_input_not_modified():
    values = [3.0, 1.0]
    mean(values)
    assert values == [3.0, 1.0]

import math
import random
import statistics

from streamstats import running_medians


def test_single():
    assert running_medians([4.25]) == [4.25]


def test_duplicates_and_ties():
    assert running_medians([2.0, 2.0, 2.0, 1.0, 3.0]) == [2.0, 2.0, 2.0, 2.0, 2.0]


def test_negatives_and_zero():
    assert running_medians([-1.0, 0.0, -3.0, 5.0]) == [-1.0, -0.5, -1.0, -0.5]


def test_integers_keep_their_type_for_odd_counts():
    out = running_medians([3, 1, 2])
    assert out == [3, 2.0, 2]
    assert type(out[0]) is int and type(out[1]) is float and type(out[2]) is int


def test_exact_midpoints():
    # (a + b) / 2 of the two middle values, computed exactly that way.
    a, b = 0.1, 0.2
    assert running_medians([a, b]) == [a, (a + b) / 2]
    big = [1e308, 1e308]
    assert running_medians(big)[1] == math.inf  # (1e308 + 1e308) / 2 overflows, as written


def test_infinities():
    out = running_medians([math.inf, -math.inf, 1.0])
    assert out[0] == math.inf and math.isnan(out[1]) and out[2] == 1.0


def test_input_not_modified():
    values = [3.0, 1.0, 2.0]
    running_medians(values)
    assert values == [3.0, 1.0, 2.0]


def test_random_against_statistics():
    rng = random.Random(3)
    for size in (1, 2, 3, 10, 101, 500):
        values = [rng.uniform(-1e3, 1e3) for _ in range(size)]
        expected = [statistics.median(values[: i + 1]) for i in range(size)]
        assert running_medians(values) == expected


def test_many_duplicates():
    rng = random.Random(8)
    values = [float(rng.randrange(5)) for _ in range(300)]
    expected = [statistics.median(values[: i + 1]) for i in range(300)]
    assert running_medians(values) == expected

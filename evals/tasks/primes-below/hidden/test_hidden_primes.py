import pytest

from numtheory import is_prime, primes_below


@pytest.mark.parametrize("limit", [-(10**6), -1, 0, 1, 2])
def test_nothing_below_two(limit):
    assert primes_below(limit) == []


def test_edges_around_primes():
    assert primes_below(3) == [2]
    assert primes_below(4) == [2, 3]
    assert primes_below(5) == [2, 3]
    assert primes_below(6) == [2, 3, 5]


def test_squares_of_primes_are_excluded():
    primes = set(primes_below(2000))
    for p in (2, 3, 5, 7, 11, 13, 31, 43):
        assert p * p not in primes


def test_counts():
    assert len(primes_below(100)) == 25
    assert len(primes_below(1000)) == 168
    assert len(primes_below(10_000)) == 1229
    assert len(primes_below(100_000)) == 9592


def test_agrees_with_trial_division():
    assert primes_below(3000) == [n for n in range(3000) if is_prime(n)]


def test_result_is_list_of_int():
    out = primes_below(50)
    assert type(out) is list and all(type(p) is int for p in out)


def test_last_primes():
    assert primes_below(7920)[-1] == 7919
    assert primes_below(7919)[-1] == 7907


def test_float_limit_raises_type_error():
    with pytest.raises(TypeError):
        primes_below(10.5)

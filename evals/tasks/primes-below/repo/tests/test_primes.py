from numtheory import is_prime, primes_below


def test_small():
    assert primes_below(20) == [2, 3, 5, 7, 11, 13, 17, 19]


def test_limit_is_exclusive():
    assert primes_below(7) == [2, 3, 5]


def test_nothing_below_two():
    assert primes_below(2) == []
    assert primes_below(0) == []


def test_is_prime():
    assert [n for n in range(30) if is_prime(n)] == primes_below(30)

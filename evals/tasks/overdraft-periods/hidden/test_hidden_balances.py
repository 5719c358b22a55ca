import random
from decimal import Decimal
from fractions import Fraction

import pytest

from ledgerkit import overdraft_periods


def by_hand(opening, transactions):
    """Written independently: indices of negative balances, grouped into runs."""
    negative, balance = [], opening
    for index, amount in enumerate(transactions):
        balance += amount
        if balance < 0:
            negative.append(index)
    periods = []
    for index in negative:
        if periods and periods[-1][0] + periods[-1][1] == index:
            periods[-1] = (periods[-1][0], periods[-1][1] + 1)
        else:
            periods.append((index, 1))
    return periods


def test_opening_overdrawn_alone_makes_no_period():
    assert overdraft_periods(-500, [600]) == []
    assert overdraft_periods(-500, [0]) == [(0, 1)]


def test_single_transaction():
    assert overdraft_periods(0, [-1]) == [(0, 1)]
    assert overdraft_periods(0, [1]) == []


def test_overdrawn_throughout():
    assert overdraft_periods(-1, [0] * 1000) == [(0, 1000)]


def test_a_period_running_to_the_end():
    assert overdraft_periods(0, [-1, 1, -1, 0, 0]) == [(0, 1), (2, 3)]


def test_periods_of_equal_length():
    assert overdraft_periods(0, [-1, 0, 2, -3, 0, 5]) == [(0, 2), (3, 2)]


def test_big_integers_are_exact():
    big = 10**40
    assert overdraft_periods(big, [-big, -1, 1, 1]) == [(1, 1)]


def test_floats_and_exact_numbers():
    assert overdraft_periods(0.1, [0.2, -0.30000000000000004]) == []
    assert overdraft_periods(0.1, [0.2, -0.3000000000000001]) == [(1, 1)]
    assert overdraft_periods(Decimal("0.10"), [Decimal("-0.11")]) == [(0, 1)]
    assert overdraft_periods(Fraction(1, 3), [Fraction(-1, 3), Fraction(-1, 3)]) == [(1, 1)]


def test_periods_are_tuples_of_ints():
    [(first, count)] = overdraft_periods(0, [-1, -1])
    assert (type(first), type(count)) == (int, int)


def test_a_bad_amount_raises_type_error():
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'int' and 'str'"):
        overdraft_periods(0, [1, "2"])


def test_input_is_unchanged():
    transactions = [5, -10, 3]
    overdraft_periods(0, transactions)
    assert transactions == [5, -10, 3]


def test_random_against_a_hand_count():
    rng = random.Random(9)
    for _ in range(300):
        transactions = [rng.randrange(-50, 50) for _ in range(rng.randrange(0, 40))]
        opening = rng.randrange(-60, 60)
        assert overdraft_periods(opening, transactions) == by_hand(opening, transactions)


def test_a_long_history():
    transactions = [(-1) ** (i // 1000) * 3 for i in range(100_000)]
    assert overdraft_periods(-1, transactions) == by_hand(-1, transactions)

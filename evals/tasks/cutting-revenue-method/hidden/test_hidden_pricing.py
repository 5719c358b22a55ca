import copy
import itertools

import pytest

from lumber import PriceList

CLASSIC = {1: 1, 2: 5, 3: 8, 4: 9, 5: 10, 6: 17, 7: 17, 8: 20}
CLASSIC_BEST = [0, 1, 5, 8, 10, 13, 17, 18, 22, 25, 27, 30, 34, 35, 39, 42, 44]


def brute(prices, length):
    """Best over every multiset of pieces that fits."""
    best = 0
    pieces = list(prices)
    for counts in itertools.product(*(range(length // p + 1) for p in pieces)):
        used = sum(c * p for c, p in zip(counts, pieces))
        if used <= length:
            best = max(best, sum(c * prices[p] for c, p in zip(counts, pieces)))
    return best


def test_classic_table():
    prices = PriceList(CLASSIC)
    assert [prices.best_revenue(n) for n in range(len(CLASSIC_BEST))] == CLASSIC_BEST


def test_empty_price_list():
    assert PriceList({}).best_revenue(10) == 0


def test_piece_longer_than_board():
    assert PriceList({5: 100}).best_revenue(4) == 0
    assert PriceList({5: 100}).best_revenue(5) == 100


def test_negative_prices_are_never_worth_cutting():
    assert PriceList({1: -5, 2: 3}).best_revenue(3) == 3
    assert PriceList({1: -1}).best_revenue(4) == 0


def test_negative_length_message():
    with pytest.raises(ValueError, match=r"^length must be non-negative, got -3$"):
        PriceList({1: 1}).best_revenue(-3)


def test_constructor_validation_message():
    with pytest.raises(ValueError, match=r"^piece lengths must be positive, got -2$"):
        PriceList({1: 1, -2: 5})


def test_against_brute_force():
    for prices in (
        {2: 3, 3: 5},
        {1: 2, 4: 9, 5: 11},
        {3: 7, 7: 17, 2: 4},
        {1: 1, 2: 5, 3: 8, 4: 9},
    ):
        price_list = PriceList(prices)
        for length in range(0, 15):
            assert price_list.best_revenue(length) == brute(prices, length), (prices, length)


def test_calls_leave_the_object_unchanged():
    price_list = PriceList(CLASSIC)
    before = copy.deepcopy(vars(price_list))
    price_list.best_revenue(12)
    assert vars(price_list) == before


def test_price_list_is_a_copy():
    prices = {2: 3}
    price_list = PriceList(prices)
    prices[1] = 100
    assert price_list.best_revenue(2) == 3


def test_result_is_int_and_repeatable():
    price_list = PriceList({2: 3, 3: 5, 4: 7, 6: 11})
    first = price_list.best_revenue(20)
    assert type(first) is int and first == price_list.best_revenue(20) == 36

import pytest

from lumber import PriceList


def test_classic_rod_cutting():
    prices = PriceList({1: 1, 2: 5, 3: 8, 4: 9, 5: 10, 6: 17, 7: 17, 8: 20})
    assert prices.best_revenue(4) == 10  # 2 + 2
    assert prices.best_revenue(8) == 22  # 2 + 6


def test_leftover_is_worthless():
    assert PriceList({3: 10}).best_revenue(5) == 10


def test_zero_length():
    assert PriceList({1: 3}).best_revenue(0) == 0


def test_negative_length():
    with pytest.raises(ValueError):
        PriceList({1: 1}).best_revenue(-1)


def test_bad_price_list():
    with pytest.raises(ValueError):
        PriceList({0: 5})

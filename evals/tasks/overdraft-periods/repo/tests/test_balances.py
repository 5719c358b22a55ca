from ledgerkit import overdraft_periods


def test_overdraft_periods():
    # balances: 50, -30, -10, 20, -5
    assert overdraft_periods(100, [-50, -80, 20, 30, -25]) == [(1, 2), (4, 1)]


def test_never_overdrawn():
    assert overdraft_periods(10, [5, -5, 0]) == []


def test_no_transactions():
    assert overdraft_periods(-100, []) == []


def test_zero_is_not_overdrawn():
    assert overdraft_periods(0, [0, -1, 1]) == [(1, 1)]

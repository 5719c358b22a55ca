from ledger import count_pairs_with_sum


def test_offsetting_entries():
    assert count_pairs_with_sum([500, -500, 120, -120, 7], 0) == 2


def test_target_sum():
    assert count_pairs_with_sum([1, 2, 3, 4, 5], 6) == 2  # 1+5, 2+4


def test_no_pairs():
    assert count_pairs_with_sum([1, 2], 10) == 0
    assert count_pairs_with_sum([], 0) == 0

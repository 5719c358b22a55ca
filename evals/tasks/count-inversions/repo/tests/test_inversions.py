from rankings import count_inversions, kendall_distance


def test_inversions():
    assert count_inversions([2, 4, 1, 3, 5]) == 3


def test_sorted_and_reversed():
    assert count_inversions([1, 2, 3]) == 0
    assert count_inversions([3, 2, 1]) == 3


def test_kendall():
    assert kendall_distance([1, 2, 3], [1, 2, 3]) == 0
    assert kendall_distance([1, 2, 3], [3, 2, 1]) == 3

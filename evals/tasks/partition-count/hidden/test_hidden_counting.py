import pytest

from partitions import count_all_partitions, count_partitions

# p(n) for n = 0..30 (OEIS A000041).
P = [1, 1, 2, 3, 5, 7, 11, 15, 22, 30, 42, 56, 77, 101, 135, 176, 231, 297, 385, 490, 627,
     792, 1002, 1255, 1575, 1958, 2436, 3010, 3718, 4565, 5604]  # fmt: skip


@pytest.mark.parametrize("n", range(len(P)))
def test_partition_numbers(n):
    assert count_all_partitions(n) == P[n]
    assert count_partitions(n, n) == P[n]


def test_table_of_restricted_counts():
    # p(n, k): partitions of n into parts of size at most k, from the recurrence by hand.
    expected = {
        (7, 1): 1, (7, 2): 4, (7, 3): 8, (7, 4): 11, (7, 5): 13, (7, 6): 14, (7, 7): 15,
        (12, 3): 19, (12, 4): 34, (15, 5): 84, (25, 2): 13, (30, 3): 91,
    }  # fmt: skip
    for (n, k), count in expected.items():
        assert count_partitions(n, k) == count, (n, k)


def test_monotone_in_largest():
    counts = [count_partitions(18, k) for k in range(0, 25)]
    assert counts == sorted(counts)
    assert counts[0] == 0 and counts[-1] == P[18]


def test_zero_total_always_one():
    for k in (-5, -1, 0, 1, 7, 100):
        assert count_partitions(0, k) == 1


def test_negative_and_nonpositive_limits():
    assert count_partitions(-1, -1) == 0
    assert count_partitions(-100, 100) == 0
    assert count_partitions(9, -2) == 0
    assert count_partitions(1, 0) == 0


def test_booleans_behave_as_integers():
    assert count_partitions(True, True) == 1
    assert count_partitions(3, True) == 1
    assert count_partitions(False, 5) == 1


def test_repeated_calls_agree():
    first = [count_partitions(n, 6) for n in range(30)]
    second = [count_partitions(n, 6) for n in range(30)]
    assert first == second
    assert all(type(c) is int for c in first)


def test_larger_value():
    assert count_partitions(40, 40) == 37338
    assert count_partitions(40, 10) == 16928

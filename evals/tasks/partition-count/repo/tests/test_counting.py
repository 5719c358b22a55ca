import pytest

from partitions import count_all_partitions, count_partitions


@pytest.mark.parametrize(
    ("n", "expected"), [(0, 1), (1, 1), (2, 2), (3, 3), (4, 5), (5, 7), (10, 42), (20, 627)]
)
def test_partition_numbers(n, expected):
    assert count_all_partitions(n) == expected


def test_largest_part_limits_the_count():
    assert count_partitions(5, 1) == 1
    assert count_partitions(5, 2) == 3  # 2+2+1, 2+1+1+1, 1*5
    assert count_partitions(10, 3) == 14


def test_largest_above_total_changes_nothing():
    assert count_partitions(6, 6) == count_partitions(6, 50) == 11


def test_degenerate_inputs():
    assert count_partitions(0, 0) == 1
    assert count_partitions(4, 0) == 0
    assert count_partitions(-3, 4) == 0

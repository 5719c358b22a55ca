from logkit.ids import answered


def test_no_failure_means_every_id_answered():
    assert answered(set(), 3) == 3


def test_ids_count_from_one_up_to_last():
    assert answered(set(), 0) == 0
    assert answered({1, 2, 3, 4, 5}, 5) == 0
    assert answered({0, 2, 7}, 5) == 4  # 0 and 7 are outside 1..5
    assert answered({1, 3}, -2) == 0

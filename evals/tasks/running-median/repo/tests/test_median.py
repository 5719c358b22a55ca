from streamstats import running_medians


def test_running_medians():
    assert running_medians([5.0, 1.0, 3.0, 2.0]) == [5.0, 3.0, 3.0, 2.5]


def test_empty():
    assert running_medians([]) == []


def test_sorted_input():
    assert running_medians([1.0, 2.0, 3.0]) == [1.0, 1.5, 2.0]

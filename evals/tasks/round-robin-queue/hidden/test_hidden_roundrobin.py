import random

import pytest

from scheduler import completion_order


def simulate(jobs, quantum):
    """Time-based simulation: finishing time of each job, ties by queue position."""
    from collections import deque

    queue = deque(jobs)
    out = []
    while queue:
        name, work = queue.popleft()
        if work > quantum:
            queue.append((name, work - quantum))
        else:
            out.append(name)
    return out


def test_single_job():
    assert completion_order([("only", 100)], 7) == ["only"]


def test_zero_and_negative_work_finish_on_first_turn():
    assert completion_order([("a", 5), ("b", 0), ("c", -3)], 2) == ["b", "c", "a"]


def test_exact_multiple_of_quantum():
    assert completion_order([("a", 6), ("b", 3)], 3) == ["b", "a"]
    assert completion_order([("a", 3), ("b", 3)], 3) == ["a", "b"]


def test_ties_keep_queue_order():
    jobs = [(name, 10) for name in "edcba"]
    assert completion_order(jobs, 4) == list("edcba")


def test_duplicate_names_are_separate_jobs():
    assert completion_order([("a", 5), ("a", 1), ("b", 2)], 2) == ["a", "b", "a"]


def test_unicode_names():
    assert completion_order([("ジョブ", 3), ("tâche", 1)], 1) == ["tâche", "ジョブ"]


@pytest.mark.parametrize("quantum", [0, -1, -100])
def test_non_positive_quantum(quantum):
    with pytest.raises(ValueError, match=f"quantum must be positive, got {quantum}"):
        completion_order([("a", 1)], quantum)


def test_bad_quantum_raises_even_without_jobs():
    with pytest.raises(ValueError):
        completion_order([], 0)


def test_input_is_not_modified():
    jobs = [("a", 5), ("b", 2), ("c", 9)]
    snapshot = list(jobs)
    completion_order(jobs, 2)
    assert jobs == snapshot


def test_matches_simulation_on_random_data():
    rng = random.Random(17)
    for _ in range(200):
        jobs = [(f"j{i}", rng.randrange(-3, 40)) for i in range(rng.randrange(0, 30))]
        quantum = rng.randrange(1, 12)
        assert completion_order(jobs, quantum) == simulate(jobs, quantum)


def test_large():
    jobs = [(f"j{i}", (i * 7919) % 500) for i in range(3000)]
    assert completion_order(jobs, 25) == simulate(jobs, 25)

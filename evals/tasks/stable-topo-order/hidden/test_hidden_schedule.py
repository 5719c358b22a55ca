import heapq
import random

import pytest

from pipeline import run_order


def smallest_index_first(steps, requires):
    position = {s: i for i, s in enumerate(steps)}
    waiting = {s: len(requires.get(s, [])) for s in steps}
    followers = {s: [] for s in steps}
    for s in steps:
        for r in requires.get(s, []):
            followers[r].append(s)
    heap = [position[s] for s in steps if waiting[s] == 0]
    heapq.heapify(heap)
    out = []
    while heap:
        s = steps[heapq.heappop(heap)]
        out.append(s)
        for f in followers[s]:
            waiting[f] -= 1
            if waiting[f] == 0:
                heapq.heappush(heap, position[f])
    return out


def test_empty():
    assert run_order([], {}) == []
    assert run_order([], {"ghost": ["x"]}) == []


def test_single():
    assert run_order(["only"], {}) == ["only"]


def test_extra_keys_are_ignored():
    assert run_order(["a"], {"zzz": ["a", "nope"]}) == ["a"]


def test_earliest_listed_ready_step_wins_every_time():
    steps = ["d", "c", "b", "a"]
    requires = {"d": ["a"], "c": ["a"]}
    # b and a ready; b is listed first. Then a. Then d and c become ready; d is listed first.
    assert run_order(steps, requires) == ["b", "a", "d", "c"]


def test_newly_ready_step_listed_earlier_jumps_ahead():
    steps = ["x", "y", "z"]
    requires = {"x": ["y"]}
    assert run_order(steps, requires) == ["y", "x", "z"]


def test_duplicate_requirements_are_fine():
    assert run_order(["a", "b"], {"b": ["a", "a"]}) == ["a", "b"]


def test_duplicate_step_message():
    with pytest.raises(ValueError, match=r"^duplicate step 'a'$"):
        run_order(["a", "b", "a"], {})


def test_unknown_requirement_message():
    with pytest.raises(ValueError, match=r"^step 'b' requires unknown step 'q'$"):
        run_order(["a", "b"], {"b": ["a", "q"], "a": []})


def test_duplicate_checked_before_unknown():
    with pytest.raises(ValueError, match="duplicate"):
        run_order(["a", "a"], {"a": ["nope"]})


def test_self_requirement_is_a_cycle():
    with pytest.raises(ValueError, match=r"^cycle among steps: b$"):
        run_order(["a", "b"], {"b": ["b"]})


def test_cycle_message_lists_stuck_steps_in_listed_order():
    steps = ["ok", "c3", "c1", "c2", "after"]
    requires = {"c1": ["c2"], "c2": ["c3"], "c3": ["c1"], "after": ["c1", "ok"]}
    with pytest.raises(ValueError, match=r"^cycle among steps: c3, c1, c2, after$"):
        run_order(steps, requires)


def test_unicode_names():
    assert run_order(["søk", "índice"], {"søk": ["índice"]}) == ["índice", "søk"]


def test_inputs_not_modified():
    steps = ["b", "a"]
    requires = {"b": ["a"]}
    run_order(steps, requires)
    assert steps == ["b", "a"] and requires == {"b": ["a"]}


def test_random_against_heap_reference():
    rng = random.Random(29)
    for _ in range(200):
        n = rng.randrange(0, 25)
        created = [f"s{i}" for i in range(n)]
        requires = {
            s: rng.sample(created[:i], min(i, rng.randrange(0, 3))) for i, s in enumerate(created)
        }
        steps = created[:]
        rng.shuffle(steps)
        assert run_order(steps, requires) == smallest_index_first(steps, requires)

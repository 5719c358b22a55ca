import copy
import random

import pytest

from freight import Manifest, Parcel


def public_state(manifest: Manifest) -> dict:
    return {name: value for name, value in vars(manifest).items() if not name.startswith("_")}


def test_empty_manifest():
    manifest = Manifest()
    assert manifest.at_depot("LHR") == []
    assert manifest.at_depot("") == []
    assert len(manifest) == 0
    assert Manifest([]).parcels() == []


def test_removed_parcel_leaves_its_depot():
    manifest = Manifest([Parcel("A", "LHR", 1.0), Parcel("B", "LHR", 2.0)])
    manifest.remove("A")
    assert manifest.at_depot("LHR") == [Parcel("B", "LHR", 2.0)]
    manifest.remove("B")
    assert manifest.at_depot("LHR") == []


def test_rebooked_parcel_goes_last_at_its_new_depot():
    manifest = Manifest([Parcel("A", "LHR", 1.0), Parcel("B", "LHR", 2.0), Parcel("C", "CDG", 3.0)])
    manifest.remove("A")
    manifest.add(Parcel("A", "LHR", 1.0))
    assert [p.tracking for p in manifest.at_depot("LHR")] == ["B", "A"]
    manifest.remove("B")
    manifest.add(Parcel("B", "CDG", 2.0))
    assert manifest.at_depot("LHR") == [Parcel("A", "LHR", 1.0)]
    assert manifest.at_depot("CDG") == [Parcel("C", "CDG", 3.0), Parcel("B", "CDG", 2.0)]
    assert [p.tracking for p in manifest.parcels()] == ["C", "A", "B"]


def test_added_parcels_are_seen_by_later_calls():
    manifest = Manifest([Parcel("A", "LHR", 1.0)])
    assert manifest.at_depot("FRA") == []
    manifest.add(Parcel("B", "FRA", 5.0))
    assert manifest.at_depot("FRA") == [Parcel("B", "FRA", 5.0)]


def test_tracking_number_free_again_after_remove():
    manifest = Manifest([Parcel("A", "LHR", 1.0)])
    manifest.remove("A")
    with pytest.raises(KeyError):
        manifest.remove("A")
    manifest.add(Parcel("A", "CDG", 9.0))
    assert manifest.at_depot("CDG") == [Parcel("A", "CDG", 9.0)]
    assert manifest.at_depot("LHR") == []


def test_failed_add_and_remove_change_nothing():
    manifest = Manifest([Parcel("A", "LHR", 1.0)])
    with pytest.raises(ValueError, match=r"^duplicate tracking number 'A'$"):
        manifest.add(Parcel("A", "CDG", 2.0))
    with pytest.raises(KeyError) as caught:
        manifest.remove("Z")
    assert caught.value.args == ("Z",)
    assert manifest.at_depot("CDG") == []
    assert manifest.at_depot("LHR") == [Parcel("A", "LHR", 1.0)]
    assert len(manifest) == 1


def test_constructor_duplicate_message():
    with pytest.raises(ValueError, match=r"^duplicate tracking number 'B'$"):
        Manifest([Parcel("A", "X", 1.0), Parcel("B", "X", 1.0), Parcel("B", "Y", 1.0)])


def test_depots_are_exact_strings():
    manifest = Manifest(
        [Parcel("1", "lhr", 1.0), Parcel("2", "LHR", 1.0), Parcel("3", "Zürich", 1.0)]
    )
    assert manifest.at_depot("LHR") == [Parcel("2", "LHR", 1.0)]
    assert manifest.at_depot("Zürich") == [Parcel("3", "Zürich", 1.0)]
    assert manifest.at_depot("LHR ") == []


def test_result_is_a_new_list_each_time():
    manifest = Manifest([Parcel("A", "LHR", 1.0)])
    first = manifest.at_depot("LHR")
    first.append(Parcel("X", "LHR", 0.0))
    second = manifest.at_depot("LHR")
    assert second == [Parcel("A", "LHR", 1.0)]
    assert second is not manifest.at_depot("LHR")
    empty = manifest.at_depot("CDG")
    empty.append(Parcel("Y", "CDG", 0.0))
    assert manifest.at_depot("CDG") == []


def test_lookup_leaves_the_manifest_unchanged():
    manifest = Manifest([Parcel("A", "LHR", 1.0), Parcel("B", "CDG", 2.0)])
    before = copy.deepcopy(public_state(manifest))
    parcels = manifest.parcels()
    manifest.at_depot("LHR")
    manifest.at_depot("nowhere")
    assert public_state(manifest) == before
    assert manifest.parcels() == parcels


def test_constructor_copies_its_input():
    booked = [Parcel("A", "LHR", 1.0)]
    manifest = Manifest(booked)
    booked.append(Parcel("B", "LHR", 2.0))
    assert manifest.at_depot("LHR") == [Parcel("A", "LHR", 1.0)]


def test_accepts_any_iterable():
    manifest = Manifest(Parcel(str(n), "D" + str(n % 2), float(n)) for n in range(5))
    assert [p.tracking for p in manifest.at_depot("D0")] == ["0", "2", "4"]


def test_random_operations_against_a_list():
    rng = random.Random(5)
    depots = ["A", "B", "C", ""]
    for _ in range(60):
        model: list[Parcel] = []
        start = [Parcel(f"t{n}", rng.choice(depots), float(n)) for n in range(rng.randrange(8))]
        manifest = Manifest(start)
        model.extend(start)
        for step in range(40):
            roll = rng.random()
            tracking = f"t{rng.randrange(12)}"
            if roll < 0.4:
                parcel = Parcel(tracking, rng.choice(depots), float(step))
                if any(p.tracking == tracking for p in model):
                    with pytest.raises(ValueError):
                        manifest.add(parcel)
                else:
                    manifest.add(parcel)
                    model.append(parcel)
            elif roll < 0.7:
                held = [p for p in model if p.tracking == tracking]
                if held:
                    assert manifest.remove(tracking) == held[0]
                    model.remove(held[0])
                else:
                    with pytest.raises(KeyError):
                        manifest.remove(tracking)
            depot = rng.choice([*depots, "Z"])
            assert manifest.at_depot(depot) == [p for p in model if p.depot == depot]
        assert manifest.parcels() == model
        assert len(manifest) == len(model)

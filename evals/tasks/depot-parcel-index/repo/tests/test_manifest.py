import pytest

from freight import Manifest, Parcel


def sample() -> Manifest:
    return Manifest(
        [
            Parcel("T1", "LHR", 1.5),
            Parcel("T2", "CDG", 0.4),
            Parcel("T3", "LHR", 12.0),
        ]
    )


def test_at_depot_in_booking_order():
    manifest = sample()
    assert manifest.at_depot("LHR") == [Parcel("T1", "LHR", 1.5), Parcel("T3", "LHR", 12.0)]
    assert manifest.at_depot("CDG") == [Parcel("T2", "CDG", 0.4)]
    assert manifest.at_depot("FRA") == []


def test_add_books_last():
    manifest = sample()
    manifest.add(Parcel("T4", "LHR", 3.0))
    assert [p.tracking for p in manifest.at_depot("LHR")] == ["T1", "T3", "T4"]
    assert len(manifest) == 4


def test_remove_returns_the_parcel():
    manifest = sample()
    assert manifest.remove("T2") == Parcel("T2", "CDG", 0.4)
    assert len(manifest) == 2
    assert [p.tracking for p in manifest.parcels()] == ["T1", "T3"]


def test_remove_unknown():
    with pytest.raises(KeyError):
        sample().remove("T9")


def test_duplicates_refused():
    with pytest.raises(ValueError):
        Manifest([Parcel("T1", "LHR", 1.0), Parcel("T1", "CDG", 2.0)])
    with pytest.raises(ValueError):
        sample().add(Parcel("T3", "FRA", 1.0))

"""A day's parcel manifest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Parcel(NamedTuple):
    tracking: str
    depot: str
    weight_kg: float


class Manifest:
    """The parcels booked for a day, in booking order. Tracking numbers are unique."""

    def __init__(self, parcels: Iterable[Parcel] = ()) -> None:
        self._parcels: list[Parcel] = list(parcels)
        seen: set[str] = set()
        for parcel in self._parcels:
            if parcel.tracking in seen:
                raise ValueError(f"duplicate tracking number {parcel.tracking!r}")
            seen.add(parcel.tracking)

    def __len__(self) -> int:
        return len(self._parcels)

    def parcels(self) -> list[Parcel]:
        """Every parcel, in booking order (a new list)."""
        return list(self._parcels)

    def add(self, parcel: Parcel) -> None:
        """Book ``parcel`` last. Raises ``ValueError`` if its tracking number is taken."""
        for booked in self._parcels:
            if booked.tracking == parcel.tracking:
                raise ValueError(f"duplicate tracking number {parcel.tracking!r}")
        self._parcels.append(parcel)

    def remove(self, tracking: str) -> Parcel:
        """Take the parcel ``tracking`` off the manifest and return it (``KeyError`` if none)."""
        for position, booked in enumerate(self._parcels):
            if booked.tracking == tracking:
                return self._parcels.pop(position)
        raise KeyError(tracking)

    def at_depot(self, depot: str) -> list[Parcel]:
        """The parcels going to ``depot``, in booking order (a new list)."""
        found = []
        for parcel in self._parcels:
            if parcel.depot == depot:
                found.append(parcel)
        return found

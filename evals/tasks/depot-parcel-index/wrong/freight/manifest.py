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
        # Each depot's parcels in booking order, kept in step with ``_parcels`` by every
        # method that changes it (a depot with no parcel left has no entry).
        by_depot: dict[str, list[Parcel]] = {}
        seen: set[str] = set()
        for parcel in self._parcels:
            if parcel.tracking in seen:
                raise ValueError(f"duplicate tracking number {parcel.tracking!r}")
            seen.add(parcel.tracking)
            bucket = by_depot.get(parcel.depot)
            if bucket is None:
                by_depot[parcel.depot] = [parcel]
            else:
                bucket.append(parcel)
        self._by_depot = by_depot

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
        bucket = self._by_depot.get(parcel.depot)
        if bucket is None:
            self._by_depot[parcel.depot] = [parcel]
        else:
            bucket.append(parcel)

    def remove(self, tracking: str) -> Parcel:
        """Take the parcel ``tracking`` off the manifest and return it (``KeyError`` if none)."""
        for position, booked in enumerate(self._parcels):
            if booked.tracking == tracking:
                del self._parcels[position]
                return booked
        raise KeyError(tracking)

    def at_depot(self, depot: str) -> list[Parcel]:
        """The parcels going to ``depot``, in booking order (a new list)."""
        bucket = self._by_depot.get(depot)
        return [] if bucket is None else list(bucket)

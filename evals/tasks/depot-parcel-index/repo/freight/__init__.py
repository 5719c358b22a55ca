"""Parcel manifests."""

from freight.manifest import Manifest, Parcel

__all__ = ["Manifest", "Parcel"]

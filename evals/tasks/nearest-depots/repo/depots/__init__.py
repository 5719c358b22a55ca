"""Delivery depots on a city grid."""

from depots.nearest import nearest_depots

__all__ = ["nearest_depots"]

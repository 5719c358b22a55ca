"""Warehouse inventory checks."""

from inventory.orders import unknown_items

__all__ = ["unknown_items"]

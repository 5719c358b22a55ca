"""Checking incoming orders against the warehouse's books."""

from __future__ import annotations


def unknown_items(order: list[str], stock: dict[str, int], backorders: dict[str, int]) -> list[str]:
    """The SKUs of ``order`` (in order, repeats kept) that are neither stocked nor on back-order.

    ``stock`` and ``backorders`` map SKUs to quantities; a SKU listed with quantity 0 is still
    known.
    """
    # ``k in d`` is the same test as ``k in d.keys()``, without making a keys view each time.
    return [item for item in order if item not in stock and item not in backorders]

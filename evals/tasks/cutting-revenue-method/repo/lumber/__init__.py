"""Lumber yard pricing."""

from lumber.pricing import PriceList

__all__ = ["PriceList"]

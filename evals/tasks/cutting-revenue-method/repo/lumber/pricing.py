"""Pricing boards cut to standard lengths."""

from __future__ import annotations


class PriceList:
    """What the yard pays for pieces of each standard length (in feet)."""

    def __init__(self, prices: dict[int, int]) -> None:
        for length, price in prices.items():
            if length <= 0:
                raise ValueError(f"piece lengths must be positive, got {length}")
        self.prices = dict(prices)

    def price_of(self, length: int) -> int:
        """The price of one piece of exactly ``length`` feet (0 if not a standard length)."""
        return self.prices.get(length, 0)

    def best_revenue(self, length: int) -> int:
        """The most a board of ``length`` feet can fetch when cut into standard pieces.

        Leftover wood that is not a standard length is worth nothing. Raises ``ValueError``
        for a negative length.
        """
        if length < 0:
            raise ValueError(f"length must be non-negative, got {length}")
        best = 0
        for piece, price in self.prices.items():
            if piece <= length:
                best = max(best, price + self.best_revenue(length - piece))
        return best

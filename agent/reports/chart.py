"""The log-scale axis that the speedup charts draw on (the HTML report's and the eval's): where
its ends fall, its 1-2-5 ticks, which ticks have room for a label, and where a value or a bar
from 1× goes. Geometry only, in SVG user units; each chart draws its own marks."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TOLERANCE = 1e-9  # so that a value of exactly 2.0 does not push the axis to 5×
STUB = 1.0  # half the width of the bar of a value at 1×: every value gets a visible bar


def nice_numbers(low: float, high: float) -> list[float]:
    """The 1-2-5 numbers from a decade below ``low`` to a decade above ``high``."""
    first, last = math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1
    return [float(f"{m}e{e}") for e in range(first, last + 1) for m in (1, 2, 5)]


def tick_label(tick: float) -> str:
    return f"{tick:.0f}×" if tick >= 1 else f"{tick:g}×"


@dataclass(frozen=True)
class LogScale:
    """Speedups from ``low`` to ``high`` on a log scale, drawn from x ``left`` to ``right``."""

    low: float
    high: float
    left: float
    right: float

    @classmethod
    def around(cls, values: Iterable[float], left: float, right: float) -> LogScale:
        """Ends on 1-2-5 numbers around the values, with 1× and 2× always inside and room
        left of 1× for a value that did not change."""
        shown = [v for v in values if v > 0 and math.isfinite(v)]
        smallest, largest = min([*shown, 1.0]) * 0.9, max([*shown, 2.0])
        nice = nice_numbers(smallest, largest)
        low = max(t for t in nice if t <= smallest)
        high = min(t for t in nice if t >= largest * (1 - TOLERANCE))
        return cls(low, high, left, right)

    def x(self, value: float) -> float:
        """Where ``value`` falls; values past an end are drawn at that end."""
        value = min(max(value, self.low), self.high)
        span = math.log(self.high) - math.log(self.low)
        fraction = (math.log(value) - math.log(self.low)) / span
        return round(self.left + fraction * (self.right - self.left), 2)

    def ticks(self) -> list[float]:
        """The 1-2-5 numbers from end to end."""
        nice = nice_numbers(self.low, self.high)
        return [t for t in nice if self.low * (1 - TOLERANCE) <= t <= self.high * (1 + TOLERANCE)]

    def labelled(self, ticks: Sequence[float], char_width: float = 6.5) -> set[float]:
        """The ticks whose labels fit: the powers of ten, then the 2s and 5s that do not
        crowd them."""
        placed: list[tuple[float, float]] = []  # centre, half width
        chosen = set()
        for tick in sorted(ticks, key=lambda t: (f"{t:e}"[0] != "1", t)):
            centre, half = self.x(tick), len(tick_label(tick)) * char_width / 2
            if all(abs(centre - other) >= half + width + 12 for other, width in placed):
                placed.append((centre, half))
                chosen.add(tick)
        return chosen

    def bar(self, value: float) -> tuple[float, float]:
        """A bar from 1× to ``value`` (either way): its left and right ends."""
        one = self.x(1.0)
        start, end = sorted((one, self.x(value)))
        if end - start < 2 * STUB:
            return one - STUB, one + STUB
        return start, end


def is_one(tick: float) -> bool:
    """Whether the tick is the 1× line, where a bar starts."""
    return abs(tick - 1.0) < TOLERANCE

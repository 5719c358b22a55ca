"""How numbers read wherever Evolver shows them: the terminal, the HTML page, the pull request,
the eval's tables and chart. ``1.23×``, ``1.20–1.30×``, ``41.0%``, ``2.50 s``, ``3 min 01 s``.

Every function takes a value that may be missing (``None``, or not finite in a hand-edited
report) and then shows ``missing``: an en dash unless the caller's tables use another mark.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TypeGuard

MISSING = "–"
SHORT_SHA = 10


def finite(value: float | None) -> TypeGuard[float]:
    """Whether there is a number to show (a report may hold none, or Infinity by hand)."""
    return value is not None and math.isfinite(value)


def times(value: float | None, digits: int = 2, missing: str = MISSING) -> str:
    """A speedup: ``1.23×``."""
    return f"{value:.{digits}f}×" if finite(value) else missing


def times_scaled(value: float | None, missing: str = MISSING) -> str:
    """A speedup on a wide range, fewer decimals as it grows: ``2.05×``, ``12.5×``, ``620×``."""
    if not finite(value):
        return missing
    return times(value, 0 if value >= 100 else 1 if value >= 10 else 2)


def interval(
    ends: Sequence[float] | None, digits: int = 2, unit: str = "×", missing: str = MISSING
) -> str:
    """An interval of speedups: ``1.20–1.30×`` (``unit=""`` where the column says it)."""
    if ends is None or len(ends) != 2 or not all(finite(end) for end in ends):
        return missing
    return f"{ends[0]:.{digits}f}–{ends[1]:.{digits}f}{unit}"


def percent(share: float | None, digits: int = 1, missing: str = MISSING) -> str:
    """A share: ``0.41`` as ``41.0%``."""
    return f"{share:.{digits}%}" if finite(share) else missing


def fixed(value: float | None, digits: int, missing: str = MISSING) -> str:
    """A number whose unit the column names: ``1.200``."""
    return f"{value:.{digits}f}" if finite(value) else missing


def seconds(value: float | None, digits: int = 2, missing: str = MISSING) -> str:
    """A time: ``2.50 s``."""
    return f"{value:.{digits}f} s" if finite(value) else missing


def wall(base: float | None, result: float | None, missing: str = MISSING) -> str:
    """Wall time before and after: ``2.50 s → 1.30 s``."""
    if not (finite(base) and finite(result)):
        return missing
    return f"{seconds(base)} → {seconds(result)}"


def duration(total_seconds: float) -> str:
    """How long something took: ``45 s``, ``3 min 01 s``, ``1 h 02 min``."""
    whole = max(0, round(total_seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def usd(value: float | None, missing: str = MISSING) -> str:
    """Money: cents above a dollar, a hundredth of a cent below (a model's bill is small)."""
    if not finite(value):
        return missing
    return f"${value:.2f}" if abs(value) >= 1 else f"${value:.4f}"


def size(value: float | None, missing: str = MISSING) -> str:
    """Bytes as people read them: ``512 B``, ``3.2 KiB``, ``48.0 MiB``."""
    if not finite(value):
        return missing
    if abs(value) < 1024:
        return f"{value:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``"1 target"``, ``"2 targets"``: the noun in the plural only when it is."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def short_sha(sha: str | None) -> str:
    """A commit as people quote it: its first ten hex digits; empty when there is none."""
    return (sha or "")[:SHORT_SHA]


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, an ellipsis marking where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (each run of whitespace one space), cut at ``limit``."""
    return cut(" ".join(text.split()), limit)


def less_or_more(ratio: float | None, missing: str = MISSING) -> str:
    """A memory ratio (original / candidate) as people say it: ``3.20× less``, or for one that
    takes more, ``2.01× more``."""
    if not finite(ratio) or ratio <= 0:
        return missing
    return f"{times(ratio)} less" if ratio >= 1 else f"{times(1 / ratio)} more"


def fence(code: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``code``, which could
    otherwise close it early and turn the rest of the code into Markdown."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)

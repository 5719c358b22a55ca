"""Plain-text reports."""

from __future__ import annotations


def render_table(rows: list[tuple[str, int]]) -> str:
    """A two-column, fixed-width text table: name left-aligned, count right-aligned.

    Each row becomes one line (terminated by a newline); an empty ``rows`` gives ``""``.
    """
    out = ""
    for name, count in rows:
        out += f"{name:<20}{count:>8}\n"
    return out

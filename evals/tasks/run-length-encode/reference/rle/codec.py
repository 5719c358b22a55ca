"""Run-length encoding of text rows (``"aaab"`` → ``"3a1b"``)."""

from __future__ import annotations

from itertools import groupby


def encode(text: str) -> str:
    """Each run of equal characters as its length followed by the character."""
    # groupby finds the runs in C; only one Python step per run, not per character.
    return "".join([f"{len(list(run))}{char}" for char, run in groupby(text)])


def decode(encoded: str) -> str:
    """The inverse of :func:`encode` for texts without digits."""
    out = []
    count = ""
    for ch in encoded:
        if ch.isdigit():
            count += ch
        else:
            out.append(ch * int(count))
            count = ""
    return "".join(out)

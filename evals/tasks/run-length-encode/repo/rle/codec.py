"""Run-length encoding of text rows (``"aaab"`` → ``"3a1b"``)."""

from __future__ import annotations


def encode(text: str) -> str:
    """Each run of equal characters as its length followed by the character."""
    out = ""
    i = 0
    while i < len(text):
        run = 1
        while i + run < len(text) and text[i + run] == text[i]:
            run += 1
        out += str(run) + text[i]
        i += run
    return out


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

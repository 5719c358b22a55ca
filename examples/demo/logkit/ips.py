"""Client addresses in access logs."""

from __future__ import annotations


def unique_in_order(items: list[str]) -> list[str]:
    """The distinct values of ``items``, each kept at the position of its first occurrence."""
    unique = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique


def unique_ips(lines: list[str]) -> list[str]:
    """The distinct client IPs of access-log ``lines``, in order of first appearance.

    The client address is the first whitespace-separated field of a line (common and
    combined log formats); blank lines are skipped.
    """
    ips = [line.split()[0] for line in lines if line.strip()]
    return unique_in_order(ips)

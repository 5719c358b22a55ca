"""Parsing raw (already percent-decoded) query strings."""

from __future__ import annotations


def parse_query(query: str) -> dict[str, list[str]]:
    """``"a=1&b=2&a=3"`` → ``{"a": ["1", "3"], "b": ["2"]}``.

    Pairs are separated by ``&``; empty pairs are skipped. A pair splits at its first ``=``; a
    pair without one has the value ``""``. Keys keep the order of their first appearance and
    values the order they appear in.
    """
    # str.split and str.partition do the character work in C.
    result: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if key in result:
                result[key].append(value)
            else:
                result[key] = [value]
    return result

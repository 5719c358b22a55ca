"""Parsing raw (already percent-decoded) query strings."""

from __future__ import annotations


def parse_query(query: str) -> dict[str, list[str]]:
    """``"a=1&b=2&a=3"`` → ``{"a": ["1", "3"], "b": ["2"]}``.

    Pairs are separated by ``&``; empty pairs are skipped. A pair splits at its first ``=``; a
    pair without one has the value ``""``. Keys keep the order of their first appearance and
    values the order they appear in.
    """
    result: dict[str, list[str]] = {}
    key: list[str] = []
    value: list[str] = []
    in_value = False
    for ch in query + "&":
        if ch == "&":
            if key or in_value:
                result.setdefault("".join(key), []).append("".join(value))
            key, value, in_value = [], [], False
        elif ch == "=" and not in_value:
            in_value = True
        elif in_value:
            value.append(ch)
        else:
            key.append(ch)
    return result

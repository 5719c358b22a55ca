"""Anagram helpers."""

from __future__ import annotations


def group_anagrams(words: list[str]) -> list[list[str]]:
    """The words grouped by anagram class (same letters, same counts; case-sensitive).

    Groups come in the order of their first word; each group lists its words in input order,
    repeats included.
    """
    # A dict keyed by the sorted letters finds a word's group in O(1) instead of comparing
    # against every group so far; dicts keep insertion (first-appearance) order.
    groups: dict[str, list[str]] = {}
    for word in words:
        key = "".join(sorted(word))
        members = groups.get(key)
        if members is None:
            groups[key] = [word]
        else:
            members.append(word)
    return list(groups.values())

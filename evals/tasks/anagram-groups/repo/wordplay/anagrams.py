"""Anagram helpers."""

from __future__ import annotations


def group_anagrams(words: list[str]) -> list[list[str]]:
    """The words grouped by anagram class (same letters, same counts; case-sensitive).

    Groups come in the order of their first word; each group lists its words in input order,
    repeats included.
    """
    groups: list[tuple[list[str], list[str]]] = []  # (sorted letters, members)
    for word in words:
        letters = sorted(word)
        for key, members in groups:
            if key == letters:
                members.append(word)
                break
        else:
            groups.append((letters, [word]))
    return [members for _, members in groups]

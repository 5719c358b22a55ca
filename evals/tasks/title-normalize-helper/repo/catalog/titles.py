"""Comparing, indexing and linking book titles."""

from __future__ import annotations

import unicodedata


def _normalize(text: str, fold_accents: bool = True) -> str:
    """``text`` as its words: casefolded, every run of characters that are not letters or
    digits made one space, none at either end.

    With ``fold_accents`` the text is decomposed (NFKD) and its combining marks dropped, so
    that "Café" and "Cafe" are the same; without, it is only composed (NFC), so that the two
    spellings of "é" are the same but "é" and "e" are not.
    """
    if fold_accents:
        decomposed = unicodedata.normalize("NFKD", text)
        text = ""
        for char in decomposed:
            if not unicodedata.combining(char):
                text += char
    else:
        text = unicodedata.normalize("NFC", text)
    words = ""
    word = ""
    for char in text.casefold():
        if char.isalnum():
            word += char
        elif word:
            words = f"{words} {word}" if words else word
            word = ""
    if word:
        words = f"{words} {word}" if words else word
    return words


def dedupe_titles(titles: list[str]) -> list[str]:
    """``titles`` without those that normalize like an earlier one (the first is kept)."""
    seen: set[str] = set()
    kept = []
    for title in titles:
        key = _normalize(title)
        if key not in seen:
            seen.add(key)
            kept.append(title)
    return kept


def slugify(title: str, max_length: int = 60) -> str:
    """A URL slug for ``title``: its words joined by ``-``, at most ``max_length`` long,
    never ending in ``-``."""
    if max_length < 1:
        raise ValueError(f"max_length must be positive, got {max_length}")
    return _normalize(title).replace(" ", "-")[:max_length].rstrip("-")


def search_terms(query: str) -> list[str]:
    """The words of a search query, accents kept (the index tells "résumé" from "resume")."""
    words = _normalize(query, fold_accents=False)
    return words.split(" ") if words else []

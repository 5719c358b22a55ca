"""Comparing, indexing and linking book titles."""

from __future__ import annotations

import re
import unicodedata

# A run of letters or digits: for ``str`` patterns ``\w`` is exactly ``str.isalnum()`` or
# ``_``, so this is a run of characters ``isalnum()`` is true of.
_WORD = re.compile(r"[^\W_]+")
# A run of non-ASCII characters: the only ones that may be combining marks.
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# For ASCII text as bytes: letters lowercased (``casefold()`` of ASCII), digits kept, every
# other character a space.
_ASCII_WORDS = bytes(
    ord(chr(code).lower()) if code < 128 and chr(code).isalnum() else ord(" ")
    for code in range(256)
)


def _without_marks(match: re.Match[str]) -> str:
    return "".join([char for char in match.group() if not unicodedata.combining(char)])


def _normalize(text: str, fold_accents: bool = True) -> str:
    """``text`` as its words: casefolded, every run of characters that are not letters or
    digits made one space, none at either end.

    With ``fold_accents`` the text is decomposed (NFKD) and its combining marks dropped, so
    that "Café" and "Cafe" are the same; without, it is only composed (NFC), so that the two
    spellings of "é" are the same but "é" and "e" are not.
    """
    # ASCII text decomposes and composes to itself and has no combining marks.
    if not text.isascii():
        if fold_accents:
            text = _NON_ASCII.sub(_without_marks, unicodedata.normalize("NFKD", text))
        if not text.isascii():
            return " ".join(_WORD.findall(text.casefold()))
    return b" ".join(text.encode("ascii").translate(_ASCII_WORDS).split()).decode("ascii")


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

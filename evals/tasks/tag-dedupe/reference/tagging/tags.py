"""Normalising the free-form tags users attach to bookmarks."""

from __future__ import annotations


def normalise(tag: str) -> str:
    """A tag as stored: surrounding blanks removed, case folded, inner runs of blanks joined by
    single hyphens (``"  Machine   Learning "`` → ``"machine-learning"``)."""
    return "-".join(tag.split()).casefold()


def unique_tags(tags: list[str]) -> list[str]:
    """The distinct normalised tags, each where it first appears; blank tags are dropped."""
    cleaned = [normalise(tag) for tag in tags]
    cleaned = [tag for tag in cleaned if tag]
    # A dict keeps the first of equal keys, in insertion order: an O(n) ordered dedupe.
    return list(dict.fromkeys(cleaned))

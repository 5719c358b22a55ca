"""Book catalogue titles."""

from catalog.titles import dedupe_titles, search_terms, slugify

__all__ = ["dedupe_titles", "search_terms", "slugify"]

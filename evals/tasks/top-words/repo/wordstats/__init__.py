"""Word statistics for a search index."""

from wordstats.frequency import top_words

__all__ = ["top_words"]

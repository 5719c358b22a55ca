import pytest

from logkit.text import remove_stopwords

STOPWORDS = [
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on",
    "at", "by", "for", "with", "from", "is", "are", "was", "were", "be",
    "been", "it", "this", "that", "as", "not", "no", "into", "then", "than",
]


def test_removes_stopwords_and_keeps_order():
    words = "the request to the upstream was slow and then it timed out".split()
    assert remove_stopwords(words) == ["request", "upstream", "slow", "timed", "out"]


def test_comparison_ignores_case_but_output_keeps_it():
    assert remove_stopwords(["The", "Cache", "IS", "Cold", "AND", "Empty"]) == [
        "Cache",
        "Cold",
        "Empty",
    ]


@pytest.mark.parametrize("word", STOPWORDS)
def test_every_stopword_is_removed(word):
    assert remove_stopwords([word, "disk", word.upper()]) == ["disk"]


@pytest.mark.parametrize("word", ["theory", "another", "thee", "ann", "isnt", "", "to-do", "a."])
def test_near_misses_are_kept(word):
    assert remove_stopwords([word]) == [word]


def test_empty_input():
    assert remove_stopwords([]) == []


def test_only_stopwords():
    assert remove_stopwords(["a", "an", "the", "of"]) == []


def test_duplicates_are_kept():
    assert remove_stopwords(["retry", "the", "retry", "retry"]) == ["retry", "retry", "retry"]


def test_input_is_not_modified():
    words = ["the", "worker", "is", "busy"]
    remove_stopwords(words)
    assert words == ["the", "worker", "is", "busy"]

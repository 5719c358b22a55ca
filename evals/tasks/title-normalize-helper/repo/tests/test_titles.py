import pytest

from catalog import dedupe_titles, search_terms, slugify


def test_dedupe_keeps_first_spelling():
    titles = ["The Hobbit", "the hobbit!", "Dune", "THE  HOBBIT", "Dune Messiah"]
    assert dedupe_titles(titles) == ["The Hobbit", "Dune", "Dune Messiah"]


def test_dedupe_folds_accents():
    assert dedupe_titles(["Café Society", "Cafe society", "Cafés"]) == ["Café Society", "Cafés"]


def test_slugify():
    assert (
        slugify("The Lord of the Rings: The Two Towers") == "the-lord-of-the-rings-the-two-towers"
    )
    assert slugify("Les Misérables") == "les-miserables"
    assert slugify("A Tale of Two Cities", max_length=9) == "a-tale-of"


def test_slugify_bad_length():
    with pytest.raises(ValueError):
        slugify("x", max_length=0)


def test_search_terms_keep_accents():
    assert search_terms("Résumé writing, 2nd ed.") == ["résumé", "writing", "2nd", "ed"]
    assert search_terms("resume") == ["resume"]
    assert search_terms("") == []

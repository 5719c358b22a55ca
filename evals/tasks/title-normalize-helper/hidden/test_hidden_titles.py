import random
import unicodedata

import pytest

from catalog import dedupe_titles, search_terms, slugify


def words_of(text: str, fold_accents: bool) -> list[str]:
    """The specification, spelled out: casefolded runs of ``isalnum()`` characters."""
    if fold_accents:
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    else:
        text = unicodedata.normalize("NFC", text)
    words, word = [], []
    for char in text.casefold():
        if char.isalnum():
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


ALPHABET = (
    "aAzZ09 _-.,:!?'\t\n\u00a0\u2003\u3000"
    "éÉèñÑüÜßẞçøØåÅ\u0301\u0308\u0327"
    "ﬁﬂ²³½٣४Ⅻ①"
    "İıΣσςДж日本語한국어"
    "\u200b\u200d\U0001f600"
)


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 14)))


def test_dedupe_edge_cases():
    assert dedupe_titles([]) == []
    assert dedupe_titles(["Only"]) == ["Only"]
    assert dedupe_titles(["", "  ", "!!!", "x"]) == ["", "x"]
    assert dedupe_titles(["a_b", "A B", "a-b", "ab"]) == ["a_b", "ab"]


def test_dedupe_unicode_folding():
    assert dedupe_titles(["Straße", "STRASSE", "strasse"]) == ["Straße"]
    assert dedupe_titles(["ﬁsh", "Fish"]) == ["ﬁsh"]
    assert dedupe_titles(["x²", "X2"]) == ["x²"]
    assert dedupe_titles(["Cafe\u0301", "Café", "cafe"]) == ["Cafe\u0301"]
    assert dedupe_titles(["Ⅻ", "xii"]) == ["Ⅻ"]
    assert dedupe_titles(["日本", "日 本"]) == ["日本", "日 本"]


def test_dedupe_leaves_input_and_returns_new_list():
    titles = ["A", "a", "B"]
    result = dedupe_titles(titles)
    assert titles == ["A", "a", "B"]
    assert result == ["A", "B"]
    assert result is not titles
    assert dedupe_titles(["A", "B"]) is not dedupe_titles(["A", "B"])


def test_dedupe_keeps_the_very_first_object():
    first, second = "Dune", "DUNE"
    assert dedupe_titles([first, second])[0] is first


def test_slugify_edges():
    assert slugify("") == ""
    assert slugify("?!") == ""
    assert slugify("Straße ﬁnder") == "strasse-finder"
    assert slugify("x² ½") == "x2-1-2"
    assert slugify("ab cd", max_length=3) == "ab"
    assert slugify("ab cd", max_length=1) == "a"
    assert slugify("Crème Brûlée", max_length=100) == "creme-brulee"
    assert slugify("snake_case title") == "snake-case-title"


def test_slugify_bad_length_message():
    with pytest.raises(ValueError, match=r"^max_length must be positive, got -4$"):
        slugify("x", max_length=-4)


def test_search_terms_compose_decomposed_accents():
    assert search_terms("cafe\u0301 au lait") == ["café", "au", "lait"]
    assert search_terms("Re\u0301sume\u0301") == ["résumé"]
    assert search_terms("Café") == search_terms("Cafe\u0301") == ["café"]
    assert search_terms("cafe") == ["cafe"]
    assert search_terms("n\u0303") == ["ñ"]


def test_search_terms_edges():
    assert search_terms("") == []
    assert search_terms("   ") == []
    assert search_terms("-- , --") == []
    assert search_terms("  Straße\u00a0ÜBER\tx_y ") == ["strasse", "über", "x", "y"]
    assert search_terms("ﬁne") == ["fine"]


def test_random_against_the_specification():
    rng = random.Random(41)
    for _ in range(400):
        texts = [random_text(rng) for _ in range(rng.randrange(0, 6))]
        keys = [" ".join(words_of(text, True)) for text in texts]
        expected = [t for n, t in enumerate(texts) if keys[n] not in keys[:n]]
        assert dedupe_titles(texts) == expected, texts
        for text in texts:
            folded = words_of(text, True)
            assert slugify(text, 200) == "-".join(folded).rstrip("-"), text
            assert search_terms(text) == words_of(text, False), text

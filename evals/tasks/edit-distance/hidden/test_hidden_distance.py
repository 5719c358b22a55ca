import random

from fuzzy import levenshtein


def slow(a, b):
    if not a:
        return len(b)
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_both_empty():
    assert levenshtein("", "") == 0


def test_single_characters():
    assert levenshtein("a", "a") == 0
    assert levenshtein("a", "b") == 1
    assert levenshtein("a", "") == 1


def test_symmetry():
    pairs = [("sunday", "saturday"), ("", "xyz"), ("abc", "cba"), ("intention", "execution")]
    for a, b in pairs:
        assert levenshtein(a, b) == levenshtein(b, a)
    assert levenshtein("sunday", "saturday") == 3
    assert levenshtein("intention", "execution") == 5


def test_unicode_by_code_point():
    assert levenshtein("café", "cafe") == 1
    assert levenshtein("cafe\u0301", "café") == 2
    assert levenshtein("日本語", "日本") == 1
    assert levenshtein("😀a", "a😀") == 2


def test_case_matters():
    assert levenshtein("ABC", "abc") == 3


def test_completely_different():
    assert levenshtein("aaaa", "bbbbbb") == 6


def test_result_is_int():
    assert type(levenshtein("ab", "ba")) is int


def test_random_against_rolling_rows():
    rng = random.Random(71)
    for _ in range(300):
        a = "".join(rng.choice("abc") for _ in range(rng.randrange(0, 12)))
        b = "".join(rng.choice("abc") for _ in range(rng.randrange(0, 12)))
        assert levenshtein(a, b) == slow(a, b)


def test_longer_strings():
    rng = random.Random(2)
    a = "".join(rng.choice("ab") for _ in range(150))
    b = "".join(rng.choice("ab") for _ in range(90))
    assert levenshtein(a, b) == slow(a, b)

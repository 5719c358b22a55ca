import random

from wordplay import group_anagrams


def by_dict(words):
    groups = {}
    for w in words:
        groups.setdefault("".join(sorted(w)), []).append(w)
    return list(groups.values())


def test_single_and_repeats():
    assert group_anagrams(["x"]) == [["x"]]
    assert group_anagrams(["ab", "ab", "ba"]) == [["ab", "ab", "ba"]]


def test_empty_string_is_a_word():
    assert group_anagrams(["", "a", ""]) == [["", ""], ["a"]]


def test_letter_counts_matter():
    assert group_anagrams(["aab", "abb", "bab"]) == [["aab"], ["abb", "bab"]]


def test_unicode_by_code_point():
    assert group_anagrams(["éa", "aé", "e\u0301a"]) == [["éa", "aé"], ["e\u0301a"]]
    assert group_anagrams(["日本", "本日"]) == [["日本", "本日"]]


def test_spaces_and_punctuation_are_letters():
    assert group_anagrams(["a b", "ba ", "ab"]) == [["a b", "ba "], ["ab"]]


def test_group_order_is_first_appearance():
    assert group_anagrams(["zz", "ab", "ba", "zz"]) == [["zz", "zz"], ["ab", "ba"]]


def test_input_not_modified_and_groups_are_lists():
    words = ["ba", "ab"]
    groups = group_anagrams(words)
    assert words == ["ba", "ab"]
    assert all(type(g) is list for g in groups) and type(groups) is list


def test_random_against_dict_grouping():
    rng = random.Random(61)
    for _ in range(200):
        words = [
            "".join(rng.choice("abc") for _ in range(rng.randrange(0, 4)))
            for _ in range(rng.randrange(0, 30))
        ]
        assert group_anagrams(words) == by_dict(words)

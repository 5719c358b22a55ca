from logkit.digest import checksum


def test_an_empty_log_has_checksum_zero():
    assert checksum([]) == 0


def test_the_checksum_follows_lengths_first_characters_and_order():
    assert checksum(["a"]) == 1 + ord("a")
    assert checksum(["", "ab"]) == (0 * 31 + 0) * 31 + 2 + ord("a")
    assert checksum(["ab", "c"]) != checksum(["c", "ab"])
    assert checksum(["x" * 10] * 3) == checksum(["x" * 10] * 3)

import pytest

from lintkit import within_line_limit


def test_exactly_at_limit():
    assert within_line_limit(["abc"], 3)
    assert not within_line_limit(["abcd"], 3)


def test_zero_and_negative_limits():
    assert within_line_limit(["", ""], 0)
    assert not within_line_limit(["a"], 0)
    assert not within_line_limit([""], -1)
    assert within_line_limit([], -5)


def test_whitespace_counts():
    assert not within_line_limit(["ab  "], 2)
    assert not within_line_limit(["\tab"], 2)


def test_unicode_counts_code_points():
    assert within_line_limit(["日本語"], 3)
    assert not within_line_limit(["e\u0301e\u0301"], 3)
    assert within_line_limit(["😀😀"], 2)


def test_first_line_too_long():
    assert within_line_limit(["x" * 10] + ["y"] * 1000, 9) is False


def test_last_line_too_long():
    assert within_line_limit(["y"] * 1000 + ["x" * 10], 9) is False


def test_all_lines_fine_in_a_large_file():
    assert within_line_limit(["z" * (i % 80) for i in range(50_000)], 79) is True


def test_result_type_is_bool():
    assert within_line_limit(["a"], 5) is True
    assert within_line_limit([], 5) is True


def test_input_not_modified():
    lines = ["a", "bb"]
    within_line_limit(lines, 1)
    assert lines == ["a", "bb"]


def test_non_string_first_line_raises():
    with pytest.raises(TypeError):
        within_line_limit([None, "ok"], 3)

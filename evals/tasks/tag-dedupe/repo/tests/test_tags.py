from tagging import normalise, unique_tags


def test_normalise():
    assert normalise("  Machine   Learning ") == "machine-learning"
    assert normalise("python") == "python"
    assert normalise("   ") == ""


def test_unique_keeps_first_occurrence_order():
    tags = ["Python", "rust", "python", "Go", "RUST", "go", "zig"]
    assert unique_tags(tags) == ["python", "rust", "go", "zig"]


def test_blank_tags_are_dropped():
    assert unique_tags(["", "  ", "a", " ", "A "]) == ["a"]


def test_empty():
    assert unique_tags([]) == []

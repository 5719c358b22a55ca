import random

import pytest

from crawlrules import RobotsPolicy


def public_state(policy: RobotsPolicy) -> dict:
    return {name: value for name, value in vars(policy).items() if not name.startswith("_")}


def brute(text: str, path: str) -> bool:
    """The longest matching rule decides, an Allow wins a tie, no match allows."""
    matches = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if ":" not in line:
            continue
        field, value = line.split(":", 1)
        field, value = field.strip().lower(), value.strip()
        if field in ("allow", "disallow") and value and path.startswith(value):
            matches.append((len(value), field == "allow"))
    return max(matches, default=(0, True))[1]


def test_allow_added_later_is_obeyed():
    policy = RobotsPolicy("Disallow: /private/\n")
    assert not policy.allows("/private/press/a")
    policy.allow("/private/press/")
    assert policy.allows("/private/press/a")
    assert not policy.allows("/private/other")


def test_disallow_added_later_is_obeyed():
    policy = RobotsPolicy("User-agent: *\n")
    assert policy.allows("/tmp/x")
    policy.disallow("/tmp")
    assert not policy.allows("/tmp/x")
    policy.allow("/tmp")
    assert policy.allows("/tmp/x")


def test_replaced_text_is_obeyed():
    policy = RobotsPolicy("Disallow: /a\n")
    assert not policy.allows("/a")
    policy.text = "Disallow: /b\n"
    assert policy.allows("/a")
    assert not policy.allows("/b")
    policy.text = ""
    assert policy.allows("/b")


def test_mutators_after_replacing_text():
    policy = RobotsPolicy("Disallow: /a\n")
    policy.allows("/a")
    policy.text = "Disallow: /b"
    policy.allow("/b/c")
    assert policy.text == "Disallow: /b\nAllow: /b/c\n"
    assert policy.allows("/a")
    assert not policy.allows("/b/d")
    assert policy.allows("/b/c/d")


def test_text_without_final_newline_or_with_other_line_breaks():
    for text in ("Disallow: /a", "Disallow: /a\r", "Disallow: /a\r\n", "Disallow: /a\u2028"):
        policy = RobotsPolicy(text)
        policy.disallow("/b")
        assert not policy.allows("/a1"), repr(text)
        assert not policy.allows("/b1"), repr(text)
        assert policy.allows("/c"), repr(text)


def test_every_kind_of_line_break_separates_rules():
    for brk in ("\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"):
        policy = RobotsPolicy(f"Disallow: /a{brk}Disallow: /b")
        assert not policy.allows("/a"), repr(brk)
        assert not policy.allows("/b"), repr(brk)


def test_comments_and_odd_lines():
    text = (
        "# Disallow: /commented\n"
        "Disallow: /x#y\n"
        "Disallow /nocolon\n"
        "Disallow:\n"
        "Dis allow: /spaced\n"
        "Noindex: /other-field\n"
        "Disallow: /a:b\n"
        "\u00a0DISALLOW\u3000:\u2003/wide\u2003\n"
    )
    policy = RobotsPolicy(text)
    assert policy.allows("/commented")
    assert not policy.allows("/xz")
    assert policy.allows("/nocolon")
    assert policy.allows("/spaced")
    assert policy.allows("/other-field")
    assert not policy.allows("/a:b/c")
    assert policy.allows("/a:c")
    assert not policy.allows("/wide")
    assert policy.allows("")


def test_longest_match_and_ties_in_any_order():
    assert RobotsPolicy("Allow: /a\nDisallow: /a\n").allows("/a")
    assert RobotsPolicy("Disallow: /a\nAllow: /a\nDisallow: /a\n").allows("/a")
    assert not RobotsPolicy("Allow: /\nDisallow: /a\n").allows("/ab")
    assert RobotsPolicy("Disallow: /\nAllow: /ab\n").allows("/abc")
    assert not RobotsPolicy("Disallow: /\nAllow: /ab\n").allows("/a")
    assert not RobotsPolicy("Disallow: /ab\n").allows("/ab")
    assert RobotsPolicy("Disallow: /abc\n").allows("/ab")


def test_unicode_paths():
    policy = RobotsPolicy("Disallow: /café\nAllow: /café/menü\n")
    assert not policy.allows("/café/x")
    assert policy.allows("/café/menü.html")
    assert policy.allows("/cafe\u0301/x")


def test_bad_prefix_messages_and_nothing_changed():
    policy = RobotsPolicy("Disallow: /a\n")
    for bad in ("a", "", "/a b", "/a#b", "/a\nDisallow: /", "/a\u2028"):
        with pytest.raises(ValueError, match=r"^bad path prefix "):
            policy.disallow(bad)
        with pytest.raises(ValueError) as caught:
            policy.allow(bad)
        assert str(caught.value) == f"bad path prefix {bad!r}"
    assert policy.text == "Disallow: /a\n"
    assert not policy.allows("/a")
    assert policy.allows("/b")


def test_allows_leaves_public_state_unchanged():
    policy = RobotsPolicy("Disallow: /a\nAllow: /a/b\n")
    before = dict(public_state(policy))
    for path in ("/a", "/a/b", "/c", ""):
        policy.allows(path)
    assert public_state(policy) == before


def test_policies_are_independent():
    one = RobotsPolicy("Disallow: /a\n")
    two = RobotsPolicy("Disallow: /a\n")
    one.allow("/a")
    assert one.allows("/a")
    assert not two.allows("/a")


def test_random_against_brute_force():
    rng = random.Random(17)
    prefixes = ["/", "/a", "/ab", "/a/b", "/b", "/ba", "/a:b", "/é"]
    fields = ["Allow", "Disallow", "allow", "DISALLOW", "User-agent", "Sitemap"]
    paths = ["", "/", "/a", "/ab", "/abc", "/a/b/c", "/b", "/bar", "/a:bc", "/é/x", "/x"]
    for _ in range(150):
        lines = [
            f"{rng.choice(fields)}{rng.choice([':', ' : ', ':  '])}{rng.choice(prefixes)}"
            + rng.choice(["", "  # note", "#"])
            for _ in range(rng.randrange(6))
        ]
        policy = RobotsPolicy(rng.choice(["\n", "\r\n"]).join(lines))
        for _ in range(rng.randrange(6)):
            roll = rng.random()
            if roll < 0.3:
                policy.allow(rng.choice(prefixes))
            elif roll < 0.6:
                policy.disallow(rng.choice(prefixes))
            elif roll < 0.7:
                policy.text = "\n".join(rng.sample(lines, len(lines)))
            path = rng.choice(paths)
            assert policy.allows(path) == brute(policy.text, path), (policy.text, path)

import pytest

from crawlrules import RobotsPolicy

TEXT = """\
User-agent: *
Disallow: /private/
Allow: /private/press/
Disallow: /tmp  # scratch space
Sitemap: https://example.com/sitemap.xml
"""


def test_longest_rule_decides():
    policy = RobotsPolicy(TEXT)
    assert policy.allows("/index.html")
    assert not policy.allows("/private/accounts")
    assert policy.allows("/private/press/2024.html")
    assert not policy.allows("/tmp/x")
    assert not policy.allows("/tmpfile")


def test_tie_goes_to_allow():
    policy = RobotsPolicy("Disallow: /a\nAllow: /a\n")
    assert policy.allows("/a/b")


def test_field_case_and_spaces():
    policy = RobotsPolicy("  DISALLOW :   /secret   \n")
    assert not policy.allows("/secret/plans")


def test_empty_text_allows_everything():
    assert RobotsPolicy("").allows("/anything")


def test_mutators_append_lines():
    policy = RobotsPolicy("Disallow: /a")
    policy.disallow("/b")
    policy.allow("/b/ok")
    assert policy.text == "Disallow: /a\nDisallow: /b\nAllow: /b/ok\n"


def test_bad_prefix():
    with pytest.raises(ValueError):
        RobotsPolicy("").disallow("no-slash")
    with pytest.raises(ValueError):
        RobotsPolicy("").allow("/two words")

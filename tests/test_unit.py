"""What a candidate changes besides its target (``agent.verify.unit``), on real source."""

from __future__ import annotations

import libcst as cst

from agent.verify.unit import Unit, helper_refusal, shared_helpers, unit_of

MODULE = """
_SEPARATORS = " -_"


def _normalize(text):
    return "".join(c for c in text.lower() if c not in _SEPARATORS)


def _only_for_dedupe(text):
    return text.strip()


def dedupe(titles):
    seen, out = set(), []
    for title in titles:
        key = _normalize(_only_for_dedupe(title))
        if key not in seen:
            seen.add(key)
            out.append(title)
    return out


def slugify(title):
    return _normalize(title)


class Book:
    def __init__(self, records):
        self.records = list(records)

    def lookup(self, key):
        return next((r for r in self.records if r[0] == key), None)
"""


def unit(new: str, target: str = "dedupe") -> tuple[Unit, str | None]:
    original = cst.parse_module(MODULE)
    found = unit_of(target, original, cst.parse_module(new))
    return found, helper_refusal(found, original)


def test_a_helper_only_the_target_uses_may_be_rewritten() -> None:
    found, refusal = unit(MODULE.replace("text.strip()", "text.strip(' ')"))
    assert refusal is None and found.beyond == ("_only_for_dedupe",)


def test_a_helper_other_code_uses_is_shared_and_only_a_constant_is_refused() -> None:
    new = MODULE.replace("c not in _SEPARATORS)", "c not in ' -_')")
    found, refusal = unit(new)
    assert refusal is None  # a function: judged on its own calls (the cascade does)
    assert shared_helpers(found, cst.parse_module(MODULE)) == {"_normalize": ["slugify"]}
    _, refusal = unit(MODULE.replace('_SEPARATORS = " -_"', '_SEPARATORS = " -"'))
    assert refusal is not None and refusal.startswith("rewrites _SEPARATORS, which _normalize")


def test_a_helper_is_free_when_every_user_changes_with_it() -> None:
    new = MODULE.replace("c not in _SEPARATORS)", "c not in ' -_')").replace(
        "return _normalize(title)", "return _normalize(title) or title"
    )
    found, refusal = unit(new)
    assert refusal is None  # (slugify is public: the scope refuses that, not this rule)
    assert set(found.beyond) == {"_normalize", "slugify"}


def test_members_of_a_method_s_class_make_it_a_class_level_change() -> None:
    indexed = MODULE.replace(
        "self.records = list(records)",
        "self.records = list(records)\n        self._by_key = {r[0]: r for r in self.records}",
    )
    found, refusal = unit(indexed, "Book.lookup")
    assert refusal is None
    assert found.beyond == ("Book.__init__",) and found.class_level
    only_target, _ = unit(MODULE.replace("None)", "None)  # same"), "Book.lookup")
    assert not only_target.class_level

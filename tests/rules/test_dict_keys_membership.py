from agent.providers.rules.dict_keys_membership import DictKeysMembership
from tests.rules.helpers import rewrite


def test_drops_keys_call_in_membership_tests() -> None:
    before = """
def count(d, items):
    return sum(1 for k in items if k in d.keys() and k not in other.keys())
"""
    after = rewrite(DictKeysMembership(), before, "count")
    assert after is not None
    assert "k in d and k not in other" in after


def test_leaves_keys_with_arguments_and_other_functions() -> None:
    source = """
def f(d, k):
    return k in d.keys(1)

def g(d, k):
    return k in d.keys()
"""
    assert rewrite(DictKeysMembership(), source, "f") is None
    result = rewrite(DictKeysMembership(), source, "g")
    assert result is not None and "return k in d.keys(1)" in result

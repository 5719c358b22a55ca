import pytest

from agent.providers.rules.memoize_recursive import MemoizeRecursive
from tests.rules.helpers import assert_same_behaviour, load, rewrite

RULE = MemoizeRecursive()
DECORATOR = "@functools.lru_cache(maxsize=None, typed=True)\n"

SOURCE = """
MOD = 10**9 + 7


def fib(n: int) -> int:
    if n < 0:
        raise ValueError("negative")
    return n if n < 2 else (fib(n - 1) + fib(n - 2)) % MOD


def distance(a: str, b: str) -> int:
    if not a or not b:
        return len(a) + len(b)
    if a.startswith(b[0]):
        return distance(a[1:], b[1:])
    return 1 + min(distance(a[1:], b), distance(a, b[1:]), distance(a[1:], b[1:]))


def untouched(n: int) -> int:
    return n if n < 2 else untouched(n - 1) + untouched(n - 2)
"""


def test_fibonacci_is_memoized() -> None:
    after = rewrite(RULE, SOURCE, "fib")
    assert after is not None
    assert after.startswith("import functools\n")
    assert f"\n\n{DECORATOR}def fib(n: int) -> int:\n" in after
    assert after.count("@") == 1
    assert after.endswith(SOURCE[SOURCE.index("def distance") :])
    inputs = [(0,), (1,), (2,), (10,), (10,), (-1,), (20,), (True,), (False,)]
    assert_same_behaviour(SOURCE, after, "fib", inputs)
    a, b = 0, 1
    for _ in range(200):
        a, b = b, (a + b) % (10**9 + 7)
    assert load(after, "fib")(200) == a  # out of reach unless memoized


def test_string_recursion_with_str_methods() -> None:
    after = rewrite(RULE, SOURCE, "distance")
    assert after is not None and f"{DECORATOR}def distance(" in after
    inputs = [("", ""), ("abc", ""), ("kitten", "sitting"), ("aaa", "aaa"), ("ab", "ba")]
    assert_same_behaviour(SOURCE, after, "distance", inputs)


def test_typed_cache_keeps_bool_and_int_apart() -> None:
    before = """
def show(n: int, depth: int | None = None) -> str:
    if depth is None:
        return show(n, 0)
    return str(n) if depth > 0 else show(n, depth + 1)
"""
    after = rewrite(RULE, before, "show")
    assert after is not None
    assert_same_behaviour(before, after, "show", [(1,), (True,), (1, 0), (True, 0), (0,), (False,)])


def test_tuple_and_optional_parameters() -> None:
    before = """
from typing import Optional


def subsets(items: tuple[int, ...], target: Optional[int]) -> int:
    if target is None:
        return subsets(items, sum(items) // 2)
    if not items:
        return 1 if target == 0 else 0
    return subsets(items[1:], target) + subsets(items[1:], target - items[0])
"""
    after = rewrite(RULE, before, "subsets")
    assert after is not None and DECORATOR in after
    inputs = [((), 0), ((), None), ((1, 2, 3), 3), ((1, 2, 3), None), ((2, 2, 2, 2), 4)]
    assert_same_behaviour(before, after, "subsets", inputs)


@pytest.mark.parametrize(
    "signature, body",
    [
        ("n: float", "return n if n < 1 else f(n / 2)"),  # 0.0 and -0.0 would share a result
        ("n: list[int]", "return 0 if not n else f(n[1:])"),
        ("n", "return 0 if n < 1 else f(n - 1)"),
        ("n: int, *rest: int", "return 0 if n < 1 else f(n - 1)"),
        ("n: int, **kw: int", "return 0 if n < 1 else f(n - 1)"),
        ("n: int", "print(n)\n    return 0 if n < 1 else f(n - 1)"),
        ("n: int", "return 0 if n < 1 else f(n - 1) + limit"),  # non-constant global
        ("n: int", "return 0 if n < 1 else f(n - 1) + len(ITEMS)"),  # ALL_CAPS, but mutable
        ("n: int", "global limit\n    return 0 if n < 1 else f(n - 1)"),
        ("n: int", "ITEMS[0] = n\n    return 0 if n < 1 else f(n - 1)"),
        ("n: int", "yield n\n    return f(n - 1)"),
        ("n: int", "g = lambda: n\n    return 0 if n < 1 else f(n - 1)"),
        ("n: int", "return 0 if n < 1 else f(n - 1) + helper(n)"),  # calls a user function
        ("n: int", "return n"),  # not recursive
        ("n: int", "f = abs\n    return f(n)"),  # the recursive-looking call is a local
        ("n: int", "return 0 if n < 1 else f(n - 1) + ITEMS.count(n)"),
    ],
)
def test_does_not_fire_on_impure_or_unhashable_signatures(signature: str, body: str) -> None:
    template = """
limit = 3
ITEMS = [1, 2]


def helper(n):
    return n


def f({signature}) -> int:
    {body}
"""
    control = template.format(signature="n: int", body="return 0 if n < 1 else f(n - 1) + 1")
    assert rewrite(RULE, control, "f") is not None
    assert rewrite(RULE, template.format(signature=signature, body=body), "f") is None


@pytest.mark.parametrize(
    "source, qualname",
    [
        # a mutable result could be changed by one caller under the next
        ("def f(n: int) -> list[int]:\n    return [] if n < 1 else f(n - 1) + [n]\n", "f"),
        ("def f(n: int):\n    return 0 if n < 1 else f(n - 1)\n", "f"),
        ("class C:\n    def f(self, n: int) -> int:\n        return 0 if n < 1 else self.f(n)\n",
         "C.f"),
        ("@dec\ndef f(n: int) -> int:\n    return 0 if n < 1 else f(n - 1)\n", "f"),
        ("async def f(n: int) -> int:\n    return 0 if n < 1 else await f(n - 1)\n", "f"),
        # the module rebinds the name, or ``functools``
        ("def f(n: int) -> int:\n    return 0 if n < 1 else f(n - 1)\n\nf = print\n", "f"),
        ("functools = None\n\ndef f(n: int) -> int:\n    return 0 if n < 1 else f(n - 1)\n", "f"),
    ],
)  # fmt: skip
def test_does_not_fire_outside_plain_module_functions(source: str, qualname: str) -> None:
    assert rewrite(RULE, source, qualname) is None


def test_reuses_an_existing_functools_import() -> None:
    before = """
import functools


def steps(n: int) -> int:
    return 0 if n <= 1 else 1 + steps(n // 2 if n % 2 == 0 else 3 * n + 1)
"""
    after = rewrite(RULE, before, "steps")
    assert after is not None and after.count("import functools") == 1
    assert_same_behaviour(before, after, "steps", [(1,), (27,), (27,), (97,)])

import libcst as cst
import pytest

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.providers.rules.list_membership_to_set import ListMembershipToSet
from agent.syntax import (
    find_function,
    fresh_name,
    insert_after_imports,
    replace_function,
    uses_dynamic_scope,
    variable_uses,
)

NESTED = """
def f():
    return 1


class Outer:
    class Inner:
        def method(self):
            return 2

    def f(self):
        return 3
"""


def definition(module: cst.Module, qualname: str) -> str | None:
    function = find_function(module, qualname)
    return None if function is None else module.code_for_node(function).strip()


def test_find_function_follows_classes() -> None:
    module = cst.parse_module(NESTED)
    assert definition(module, "f") == "def f():\n    return 1"
    assert definition(module, "Outer.f") == "def f(self):\n    return 3"
    assert definition(module, "Outer.Inner.method") == "def method(self):\n    return 2"
    assert definition(module, "Outer") is None  # a class, not a function
    assert definition(module, "Outer.g") is None
    assert definition(module, "g") is None


def test_replace_function_swaps_only_that_definition() -> None:
    module = cst.parse_module(NESTED)
    old = find_function(module, "Outer.f")
    assert old is not None
    new = old.with_changes(name=cst.Name("g"))
    replaced = replace_function(module, "Outer.f", new)
    assert replaced.code == NESTED.replace("def f(self)", "def g(self)")
    assert find_function(replaced, "Outer.g") is new


def test_fresh_name_avoids_and_reserves_names() -> None:
    taken = {"x", "seen", "seen_2"}
    assert fresh_name(taken, "y") == "y"
    assert fresh_name(taken, "seen") == "seen_3"
    assert fresh_name(taken, "seen") == "seen_4"
    assert {"y", "seen_3", "seen_4"} <= taken


NEW = cst.parse_statement("NEW = 1\n")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '"""Doc."""\nfrom __future__ import annotations\nimport os\nfrom a import b\n'
            "def f():\n    pass\nimport re\n",
            '"""Doc."""\nfrom __future__ import annotations\nimport os\nfrom a import b\n'
            "NEW = 1\ndef f():\n    pass\nimport re\n",
        ),
        # Never before ``from __future__``; never after an import that follows other code.
        (
            "from __future__ import annotations\nX = 1\nimport os\n",
            "from __future__ import annotations\nNEW = 1\nX = 1\nimport os\n",
        ),
        ("def f():\n    pass\nimport re\n", "NEW = 1\ndef f():\n    pass\nimport re\n"),
        ('"""Doc."""\nX = 1\n', '"""Doc."""\nNEW = 1\nX = 1\n'),
        ("import a; import b\nX = 1\n", "import a; import b\nNEW = 1\nX = 1\n"),
        ("X = 1\n", "NEW = 1\nX = 1\n"),
    ],
)
def test_insert_after_imports_goes_after_the_imports_that_open_the_file(
    source: str, expected: str
) -> None:
    assert insert_after_imports(cst.parse_module(source), [NEW]).code == expected


def test_variable_uses_skip_attribute_and_keyword_names() -> None:
    module = cst.parse_module("x = x.x + f(x=x)\n")
    uses = variable_uses(module, "x")
    assert len(uses) == 3  # the target, ``x`` in ``x.x``, the value of ``x=``
    assert len(variable_uses(module)) == 4  # and ``f``


@pytest.mark.parametrize(
    ("source", "dynamic"),
    [
        ("print(locals())", True),
        ("f = vars", True),
        ("builtins.eval('x')", True),  # evaluates in the caller's frame too
        ("dir()", True),
        ("tempfile.mkdtemp(dir=d)", False),
        ("x.y(z)", False),
    ],
)
def test_uses_dynamic_scope(source: str, dynamic: bool) -> None:
    assert uses_dynamic_scope(cst.parse_module(source)) is dynamic


def test_context_ancestors_stop_at_the_target_function() -> None:
    module = cst.parse_module(
        "class C:\n    def f(self):\n        g = lambda: self\n        return self\n"
    )
    function = find_function(module, "C.f")
    assert function is not None
    ctx = RuleContext(module, "C.f", function)
    in_lambda, returned = variable_uses(function.body, "self")
    assert ctx.in_nested_scope(in_lambda) and not ctx.in_nested_scope(returned)
    assert [type(a) for a in ctx.ancestors(returned)] == [
        cst.Return,
        cst.SimpleStatementLine,
        cst.IndentedBlock,
    ]


class _Hoist(FunctionRule):
    """Returns ``ONE + ONE`` through one shared ``Name`` node, with ``ONE = 1`` added."""

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        one = cst.Name("ONE")
        ctx.add_statements([cst.parse_statement("ONE = 1\n")])
        ctx.add_statements([cst.parse_statement("ANCHORED = 2\n")], after=ctx.module.body[-1])
        body = cst.IndentedBlock(
            [cst.SimpleStatementLine([cst.Return(cst.BinaryOperation(one, cst.Add(), one))])]
        )
        return ctx.function.with_changes(body=body)


def test_apply_adds_statements_and_returns_a_tree_with_each_node_once() -> None:
    module = cst.parse_module("import os\ndef f():\n    return 1 + 1\nX = 0\n")
    result = _Hoist().apply(module, "f")
    assert result is not None
    assert result.code == (
        "import os\nONE = 1\ndef f():\n    return ONE + ONE\nX = 0\nANCHORED = 2\n"
    )
    nodes: list[cst.CSTNode] = []

    class Collector(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nodes.append(node)
            return True

    result.visit(Collector())
    assert len({id(node) for node in nodes}) == len(nodes)


class _NeedsScopes(FunctionRule):
    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if ctx.is_builtin("len"):
            return ctx.function.with_changes(name=cst.Name("g"))
        return None


def test_a_rule_that_asks_for_scopes_does_not_fire_with_a_star_import() -> None:
    source = "def f(xs):\n    return len(xs)\n"
    assert _NeedsScopes().apply(cst.parse_module(source), "f") is not None
    assert _NeedsScopes().apply(cst.parse_module("from m import *\n" + source), "f") is None


def test_a_name_defined_twice_is_never_a_target() -> None:
    source = """
class A:
    @property
    def v(self):
        return [x for x in self.items if x in [1, 2, 3]]

    @v.setter
    def v(self, value):
        self.items = [x for x in value if x in [1, 2, 3]]
"""
    module = cst.parse_module(source)
    assert find_function(module, "A.v") is None
    assert ListMembershipToSet().apply(module, "A.v") is None

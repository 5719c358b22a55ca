"""``s = ""`` then ``s += piece`` in a loop → collect the pieces, ``"".join`` them once.

Repeated ``+=`` on a string may copy it every time (CPython resizes in place only while no
other reference to it exists), so the loop can be quadratic; ``"".join`` is linear. The gain
is modest on CPython, real on other interpreters and when the string is shared.

Fires when ``s = ""`` (any empty str literal) is immediately followed, in the same block, by a
``for`` loop without ``else``, and every use of ``s`` in that loop is a ``s += piece``
statement reached only through ``if``/``for``/``while`` (no ``try`` or ``with`` that could
swallow an error half-way). ``s`` must be a plain local: not declared ``global``/``nonlocal``,
not read by a nested def, lambda or generator expression (which could observe the partial
string), and the function must not call ``locals``/``vars``/``dir``/``eval``/``exec`` (which
would see the new list). The loop is not inside a ``try``/``with`` of the function, so when it
stops with an error no code reads ``s``.

Pieces that are not ``str`` still fail with ``TypeError`` (``+=`` in the loop, ``join`` after
it); only how far the loop got before the error differs, and that is left to the verifier.
"""

from __future__ import annotations

from itertools import pairwise

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import fresh_name, names_in, uses_dynamic_scope, variable_uses

# The statements an ``s += piece`` may sit in: each runs its body in the loop's own frame,
# and none of them can catch an error.
_PLAIN_FLOW = (
    cst.If,
    cst.Else,
    cst.For,
    cst.While,
    cst.IndentedBlock,
    cst.SimpleStatementLine,
    cst.SimpleStatementSuite,
)


def _empty_str_assignment(statement: cst.BaseStatement) -> tuple[str, cst.SimpleString] | None:
    """``(s, literal)`` when ``statement`` is exactly ``s = ""``."""
    if not m.matches(
        statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())], m.SimpleString())])
    ):
        return None
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign) and isinstance(assign.targets[0].target, cst.Name)
    literal = assign.value
    assert isinstance(literal, cst.SimpleString)
    if literal.evaluated_value != "":  # also rules out b""
        return None
    return assign.targets[0].target.value, literal


def _appends(ctx: RuleContext, loop: cst.For, name: str) -> list[cst.AugAssign] | None:
    """The ``name += piece`` statements of ``loop``, or ``None`` unless the rewrite is safe."""
    found: list[cst.AugAssign] = []
    for use in variable_uses(ctx.function, name):
        path = list(ctx.ancestors(use))
        if ctx.in_nested_scope(use) or any(isinstance(a, cst.GeneratorExp) for a in path):
            return None  # may read the string while the loop runs
        if isinstance(ctx.parents[use], cst.NameItem):
            return None  # global or nonlocal
        if loop not in path:
            continue
        statement = path[0]
        inside = path[1 : path.index(loop)]
        if not (
            isinstance(statement, cst.AugAssign)
            and statement.target is use
            and isinstance(statement.operator, cst.AddAssign)
            and all(isinstance(a, _PLAIN_FLOW) for a in inside)
        ):
            return None
        found.append(statement)
    return found or None


def _assign(name: str, value: cst.BaseExpression) -> cst.Assign:
    return cst.Assign([cst.AssignTarget(cst.Name(name))], value)


class _Edit(cst.CSTTransformer):
    """Applies planned rewrites, found on the original tree, by node identity."""

    def __init__(self) -> None:
        # loop → (s, the empty literal, the list's name); AugAssign → the list's name
        self.loops: dict[cst.CSTNode, tuple[str, cst.SimpleString, str]] = {}
        self.appends: dict[cst.CSTNode, str] = {}

    def leave_AugAssign(
        self, original: cst.AugAssign, updated: cst.AugAssign
    ) -> cst.BaseSmallStatement:
        parts = self.appends.get(original)
        if parts is None:
            return updated
        append = cst.Attribute(cst.Name(parts), cst.Name("append"))
        return cst.Expr(cst.Call(append, [cst.Arg(updated.value)]))

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = list(updated.body)
        for index in reversed(range(len(original.body))):
            plan = self.loops.get(original.body[index])
            if plan is None:
                continue
            name, literal, parts = plan
            start = body[index - 1]
            assert isinstance(start, cst.SimpleStatementLine)
            body[index - 1] = start.with_changes(body=[_assign(parts, cst.List([]))])
            join = cst.Call(cst.Attribute(literal, cst.Name("join")), [cst.Arg(cst.Name(parts))])
            body.insert(index + 1, cst.SimpleStatementLine([_assign(name, join)]))
        return updated.with_changes(body=body)


class StringConcatJoin(FunctionRule):
    name = "string_concat_join"
    strategy = "builtins"
    summary = '`s = ""` + `s += x` in a loop → `parts.append(x)`, then `s = "".join(parts)`'

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, m.AugAssign(operator=m.AddAssign())))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if uses_dynamic_scope(ctx.function):
            return None
        taken = names_in(ctx.function)
        edit = _Edit()
        for block in m.findall(ctx.function, m.IndentedBlock()):
            assert isinstance(block, cst.IndentedBlock)
            if ctx.in_nested_scope(block) or any(
                isinstance(a, (cst.Try, cst.TryStar, cst.With)) for a in ctx.ancestors(block)
            ):
                continue
            for statement, loop in pairwise(block.body):
                start = _empty_str_assignment(statement)
                if start is None or not isinstance(loop, cst.For) or loop.orelse:
                    continue
                name, literal = start
                appends = _appends(ctx, loop, name)
                if appends is None:
                    continue
                parts = fresh_name(taken, f"{name}_parts")
                edit.loops[loop] = (name, literal, parts)
                edit.appends.update((a, parts) for a in appends)
        if not edit.loops:
            return None
        new_function = ctx.function.visit(edit)
        assert isinstance(new_function, cst.FunctionDef)
        return new_function

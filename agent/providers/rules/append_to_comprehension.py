"""``result = []`` + a loop of ``result.append(expr)`` → ``result = [expr for x in it]``.

A comprehension appends through a dedicated opcode instead of looking up and calling
``result.append`` on every item.

Fires when ``result = []`` (or ``result: T = []``) is immediately followed, in the same block, by
a ``for x in it:`` (not ``async``, no ``else``) whose body is exactly ``result.append(expr)`` or
``if cond: result.append(expr)`` (no ``elif``/``else``), and the comprehension behaves the same:

* its variables do not leak, so the loop's target names (plain names only) are not used after
  the loop: not later in the function, not anywhere in an enclosing loop, not by a nested def,
  lambda or class, not declared ``global``/``nonlocal`` (a use that a later comprehension binds
  for itself does not count), and the function does not call ``locals``, ``vars``, ``dir``,
  ``eval`` or ``exec``, which would miss them;
* ``expr``, ``cond`` and ``it`` do not mention ``result``, nor contain a lambda, ``:=``,
  ``yield`` or ``await``; ``expr`` and ``cond``, which move into the comprehension's own scope,
  do not call ``super``;
* nothing can watch ``result`` fill up: no nested def, lambda, class or generator expression
  mentions it, and when the statement sits in a ``try`` or ``with`` (which may catch an error
  half-way and go on), ``result`` is used nowhere else but later in the same block;
* no comment would be lost (comments above the loop move above the new statement).

The loop repeats until no pattern is left, so a second loop reusing ``x`` after the first one
goes first and then lets the first one go too.
"""

from __future__ import annotations

from itertools import pairwise

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import (
    empty_list_binding,
    names_in,
    target_names,
    uses_dynamic_scope,
    variable_uses,
)

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_FORBIDDEN = m.Lambda() | m.NamedExpr() | m.Yield() | m.Await()
# Longer comprehensions get one part per line (black's default limit; a method adds 4 more).
_LINE_LENGTH = 88


def _only_small_statement(suite: cst.BaseSuite) -> cst.BaseSmallStatement | None:
    if isinstance(suite, cst.SimpleStatementSuite):
        statements = suite.body
    elif len(suite.body) == 1 and isinstance(suite.body[0], cst.SimpleStatementLine):
        statements = suite.body[0].body
    else:
        return None
    return statements[0] if len(statements) == 1 else None


def _append_loop(
    loop: cst.For, result: str
) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """``(expr, cond)`` when the loop body is ``result.append(expr)``, maybe under ``if cond:``."""
    cond = None
    small = _only_small_statement(loop.body)
    body = loop.body.body
    if small is None and len(body) == 1 and isinstance(body[0], cst.If) and not body[0].orelse:
        cond = body[0].test
        small = _only_small_statement(body[0].body)
    append = m.Call(
        func=m.Attribute(m.Name(result), m.Name("append")), args=[m.Arg(keyword=None, star="")]
    )
    if small is None or not m.matches(small, m.Expr(append)):
        return None
    assert isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
    return small.value.args[0].value, cond


def _plain_target(target: cst.BaseExpression) -> bool:
    """Names, maybe unpacked (``a``, ``a, (b, *c)``): nothing stored in an attribute or item."""
    if isinstance(target, cst.Name):
        return True
    if isinstance(target, (cst.Tuple, cst.List)):
        return all(_plain_target(e.value) for e in target.elements)
    return isinstance(target, cst.StarredElement) and _plain_target(target.value)


def _local_to_a_comprehension(ctx: RuleContext, use: cst.Name) -> bool:
    """Whether ``use`` is a variable that an enclosing comprehension binds for itself."""
    path = [use, *ctx.ancestors(use)]
    for node in path:
        if isinstance(node, _COMPREHENSIONS):
            # Only the first ``in`` part is evaluated outside the comprehension's scope.
            if any(p is node.for_in.iter for p in path):
                continue
            clause: cst.CompFor | None = node.for_in
            while clause is not None:
                if use.value in target_names(clause.target):
                    return True
                clause = clause.inner_for_in
    return False


def _parenthesized(node: cst.BaseExpression, in_clause: bool) -> cst.BaseExpression:
    """``node`` in parentheses where a comprehension needs them (``for x in (a if b else c)``,
    ``[(x for x in y) …]``)."""
    bare = isinstance(node, (cst.Tuple, cst.GeneratorExp)) and not node.lpar
    if bare or (in_clause and isinstance(node, cst.IfExp) and not node.lpar):
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _comprehension(
    ctx: RuleContext,
    block: cst.IndentedBlock,
    statement: cst.SimpleStatementLine,
    loop: cst.For,
) -> cst.SimpleStatementLine | None:
    """The statement replacing ``statement`` and ``loop``, or ``None`` when the rule must not
    fire."""
    result = empty_list_binding(statement)
    if result is None or loop.asynchronous or loop.orelse or not _plain_target(loop.target):
        return None
    found = _append_loop(loop, result)
    if found is None or m.findall(loop.with_changes(leading_lines=()), m.Comment()):
        return None
    expr, cond = found
    moved = [expr] if cond is None else [expr, cond]
    for part in [*moved, loop.iter]:
        if m.findall(part, _FORBIDDEN) or variable_uses(part, result):
            return None
    if any("super" in names_in(part) for part in moved):
        return None  # its zero-argument form fails in a comprehension's scope
    loop_variables = target_names(loop.target)
    if result in loop_variables or not _result_unobserved(ctx, block, loop, result):
        return None
    # Code that runs after the loop: what follows it, and all of any loop around it.
    in_a_loop = any(isinstance(a, (cst.For, cst.While)) for a in ctx.ancestors(block))
    order = {name: i for i, name in enumerate(m.findall(ctx.function, m.Name()))}
    start = order[m.findall(statement, m.Name())[0]]
    for name in loop_variables:
        for use in variable_uses(ctx.function, name):
            if loop in ctx.ancestors(use) or _local_to_a_comprehension(ctx, use):
                continue
            if in_a_loop or order[use] > start or ctx.in_nested_scope(use):
                return None
            if isinstance(ctx.parents[use], cst.NameItem):
                return None  # global / nonlocal
    comprehension = cst.ListComp(
        elt=_parenthesized(expr, in_clause=False),
        for_in=cst.CompFor(
            target=loop.target,
            iter=_parenthesized(loop.iter, in_clause=True),
            ifs=[] if cond is None else [cst.CompIf(_parenthesized(cond, in_clause=True))],
        ),
    )
    new = statement.with_changes(
        body=[statement.body[0].with_changes(value=comprehension)],
        leading_lines=[*statement.leading_lines, *loop.leading_lines],
    )
    depth = sum(isinstance(a, cst.IndentedBlock) for a in ctx.ancestors(block)) + 1
    line = cst.Module([]).code_for_node(new.with_changes(leading_lines=()))
    if "\n" not in line.rstrip("\n") and 4 * depth + len(line) > _LINE_LENGTH:
        new = new.with_changes(
            body=[new.body[0].with_changes(value=_one_part_a_line(comprehension))]
        )
    return new


def _one_part_a_line(comprehension: cst.ListComp) -> cst.ListComp:
    """The comprehension with its expression, ``for`` and ``if`` parts on lines of their own,
    for one too long to fit on a line."""

    def newline(indent: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(indent))

    for_in = comprehension.for_in
    return comprehension.with_changes(
        lbracket=cst.LeftSquareBracket(whitespace_after=newline("    ")),
        rbracket=cst.RightSquareBracket(whitespace_before=newline("")),
        for_in=for_in.with_changes(
            whitespace_before=newline("    "),
            ifs=[i.with_changes(whitespace_before=newline("    ")) for i in for_in.ifs],
        ),
    )


def _result_unobserved(
    ctx: RuleContext, block: cst.IndentedBlock, loop: cst.For, result: str
) -> bool:
    """Whether no code can see ``result`` half-filled (or, after the rewrite, not yet bound)."""
    catching = (cst.Try, cst.TryStar, cst.With)
    guarded = any(isinstance(a, catching) for a in ctx.ancestors(block))
    # The binding, the loop, and what follows them in the block.
    rest = block.body[list(block.body).index(loop) - 1 :]
    for use in variable_uses(ctx.function, result):
        path = list(ctx.ancestors(use))
        if ctx.in_nested_scope(use) or any(isinstance(a, cst.GeneratorExp) for a in path):
            return False
        if isinstance(ctx.parents[use], cst.NameItem):
            return False  # global / nonlocal
        if guarded and not any(a is s for a in path for s in rest):
            return False  # an error caught half-way could expose ``result`` here
    return True


class AppendToComprehension(FunctionRule):
    name = "append_to_comprehension"
    strategy = "builtins"
    summary = "`r = []` + `for x in it: r.append(e)` → `r = [e for x in it]` (also with one `if`)"

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, m.Call(func=m.Attribute(attr=m.Name("append")))))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if uses_dynamic_scope(ctx.function):
            return None
        changed = False
        while (edit := _next_edit(ctx)) is not None:
            block, new_block = edit
            replaced = ctx.function.deep_replace(block, new_block)
            assert isinstance(replaced, cst.FunctionDef)
            ctx, changed = ctx.with_function(replaced), True
        return ctx.function if changed else None


def _next_edit(ctx: RuleContext) -> tuple[cst.IndentedBlock, cst.IndentedBlock] | None:
    """One block of the function's own body with one loop rewritten, before and after."""
    for block in m.findall(ctx.function, m.IndentedBlock()):
        assert isinstance(block, cst.IndentedBlock)
        if ctx.in_nested_scope(block):
            continue
        for index, (statement, loop) in enumerate(pairwise(block.body)):
            if not (isinstance(statement, cst.SimpleStatementLine) and isinstance(loop, cst.For)):
                continue
            new = _comprehension(ctx, block, statement, loop)
            if new is not None:
                body = [*block.body[:index], new, *block.body[index + 2 :]]
                return block, block.with_changes(body=body)
    return None

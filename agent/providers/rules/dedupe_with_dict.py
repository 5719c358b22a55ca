"""Order-preserving dedupe through a list → through a dict (or a set), O(n) instead of O(n²).

The pattern is exactly::

    out = []
    for x in it:
        if x not in out:
            out.append(x)

with no ``else`` anywhere. ``x not in out`` scans the list, so the loop is quadratic. When ``x``
is a name used nowhere else in the function, the whole thing becomes
``out = list(dict.fromkeys(it))``: a dict keeps the first of equal keys, in insertion order, so
the result is the same list. When ``x`` is used elsewhere (its last value may be read after the
loop) the loop stays and the membership test goes to a set: ``out_seen = set()`` beside
``out``, ``if x not in out_seen: out_seen.add(x); out.append(x)``.

Both need hashable elements, which the rule cannot know from the code: with an unhashable
element (a list, a dict) the rewrite raises ``TypeError`` where the original worked. The
verifier's tests are what catch that, unless the iterable is annotated with hashable elements
(``list[str]``, ``Iterable[int]``…), in which case the rewrite is safe by the annotations.

``dict``/``set`` use ``hash`` and ``==`` where the list used ``==`` only; the two agree for every
type whose ``__hash__`` is consistent with ``__eq__``, which Python requires of hashable types.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import (
    NESTED_SCOPES,
    empty_list_binding,
    fresh_name,
    names_in,
    uses_dynamic_scope,
    variable_uses,
)


class DedupeWithDict(FunctionRule):
    name = "dedupe_with_dict"
    strategy = "data-structure"
    summary = (
        "order-preserving dedupe `for x in it: if x not in out: out.append(x)` → "
        "`out = list(dict.fromkeys(it))`, or a seen-set when `x` is used later; needs hashable "
        "elements (safe for `list[str]`-like annotations, otherwise the verifier's tests decide)"
    )

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, m.For(body=m.IndentedBlock(body=[m.If()]))))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if uses_dynamic_scope(ctx.function):
            return None
        if not all(ctx.is_builtin(name) for name in ("list", "dict", "set")):
            return None
        dedupe = _Dedupe(ctx, names_in(ctx.module))
        return ctx.function.visit(dedupe)  # type: ignore[return-value]


def _dedupe_loop(statement: cst.BaseStatement, out: str) -> cst.For | None:
    """``for x in it: if x not in out: out.append(x)`` and nothing more."""
    if not isinstance(statement, cst.For) or not isinstance(statement.target, cst.Name):
        return None
    x = statement.target.value
    append = m.Expr(
        m.Call(
            func=m.Attribute(value=m.Name(out), attr=m.Name("append")),
            args=[m.Arg(value=m.Name(x), keyword=None, star="")],
        )
    )
    test = m.Comparison(
        left=m.Name(x), comparisons=[m.ComparisonTarget(m.NotIn(), comparator=m.Name(out))]
    )
    body = m.IndentedBlock(body=[m.SimpleStatementLine(body=[append])]) | m.SimpleStatementSuite(
        body=[append]
    )
    loop = m.For(
        body=m.IndentedBlock(body=[m.If(test=test, body=body, orelse=None)]),
        orelse=None,
        asynchronous=None,
    )
    if x == out or variable_uses(statement.iter, out):
        return None
    return statement if m.matches(statement, loop) else None


class _Dedupe(cst.CSTTransformer):
    def __init__(self, ctx: RuleContext, taken: set[str]) -> None:
        super().__init__()
        self.ctx = ctx
        self.taken = taken

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.ctx.function

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        # Nested blocks change inside their statements, never this block's length, so the
        # original statements (which the analyses know) line up with the updated ones.
        old, new = original.body, updated.body
        new_body: list[cst.BaseStatement] = []
        i = 0
        while i < len(old):
            out = empty_list_binding(old[i])
            loop = _dedupe_loop(old[i + 1], out) if out and i + 1 < len(old) else None
            if out and loop:
                new_body.extend(self._replace(old[i], loop, out))
                i += 2
            else:
                new_body.append(new[i])
                i += 1
        return updated.with_changes(body=new_body)

    def _replace(
        self, first: cst.BaseStatement, loop: cst.For, out: str
    ) -> Sequence[cst.BaseStatement]:
        assert isinstance(first, cst.SimpleStatementLine) and isinstance(loop.target, cst.Name)
        if self._loop_variable_is_private(loop) and self._list_is_private(loop, out):
            iterable = loop.iter
            if isinstance(iterable, cst.Tuple) and not iterable.lpar:  # ``for x in a, b:``
                iterable = iterable.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            fromkeys = cst.Call(
                cst.Attribute(cst.Name("dict"), cst.Name("fromkeys")), [cst.Arg(iterable)]
            )
            value = cst.Call(cst.Name("list"), [cst.Arg(fromkeys)])
            assign = first.body[0].with_changes(value=value)
            # Comments above the loop now describe the single statement that replaces it.
            return [
                first.with_changes(
                    body=[assign], leading_lines=[*first.leading_lines, *loop.leading_lines]
                )
            ]
        seen = fresh_name(self.taken, f"{out}_seen")
        x = loop.target.value
        new_seen = cst.parse_statement(f"{seen} = set()")
        add = cst.parse_statement(f"{seen}.add({x})")
        assert isinstance(add, cst.SimpleStatementLine)
        assert isinstance(loop.body, cst.IndentedBlock)
        check = loop.body.body[0]
        assert isinstance(check, cst.If) and isinstance(check.test, cst.Comparison)
        membership = check.test.comparisons[0].with_changes(comparator=cst.Name(seen))
        test = check.test.with_changes(comparisons=[membership])
        if isinstance(check.body, cst.SimpleStatementSuite):
            body: cst.BaseSuite = check.body.with_changes(body=[*add.body, *check.body.body])
        else:
            body = check.body.with_changes(body=[add, *check.body.body])
        new_check = check.with_changes(test=test, body=body)
        new_loop = loop.with_changes(body=loop.body.with_changes(body=[new_check]))
        return [first, new_seen, new_loop]

    def _loop_variable_is_private(self, loop: cst.For) -> bool:
        """The loop variable appears only in the loop (3 times), so dropping it is invisible."""
        assert isinstance(loop.target, cst.Name)
        return len(variable_uses(self.ctx.function, loop.target.value)) == 3

    def _list_is_private(self, loop: cst.For, out: str) -> bool:
        """Nothing can observe ``out`` while it fills: a closure, a ``global``, an ``except``."""
        for use in variable_uses(self.ctx.function, out):
            ancestors = list(self.ctx.ancestors(use))
            if any(isinstance(a, (*NESTED_SCOPES, cst.GeneratorExp)) for a in ancestors):
                return False
            if ancestors and isinstance(ancestors[0], cst.NameItem):
                return False  # ``global out`` / ``nonlocal out``
        # A loop that raises half way through leaves ``out`` partly filled for a handler.
        return not any(isinstance(a, (cst.Try, cst.TryStar)) for a in self.ctx.ancestors(loop))

"""``sorted(xs)[0]`` → ``min(xs)``, ``sorted(xs)[-1]`` → ``max(xs)``: O(n), no list built.

The mapping keeps which element comes out when several tie. ``min`` and ``max`` return the
first extreme element they meet; a stable sort puts the first of the smallest keys first, so
``sorted(xs, key=k)[0]`` is ``min(xs, key=k)``. With ``reverse=True`` the sort stays stable
(ties keep their order), so ``sorted(xs, key=k, reverse=True)[0]`` is ``max(xs, key=k)``. But
``sorted(xs, key=k)[-1]`` is the *last* of the largest, so ``[-1]`` fires only without a key
(equal elements without a key are interchangeable in practice).

An empty ``xs`` makes ``sorted(xs)[0]`` raise ``IndexError`` and ``min(xs)`` ``ValueError``, so
the rule fires only where ``xs`` (a local or parameter name) is known not to be empty:

* inside the branch of an ``if``, a conditional expression or an ``and``/``or`` that runs only
  when ``xs`` is non-empty (``if xs:``, ``if len(xs) > 0:``, ``if not xs: … else:``, ``xs and
  …``), or
* after a top-level ``if not xs: return/raise …`` (also ``len(xs) == 0``, ``len(xs) < 1``),

and when, from that test to the use, ``xs`` is only read (passed to ``sorted``, ``len``,
``min`` or ``max``, compared, iterated, indexed), never rebound or mutated. ``sorted``,
``min``, ``max`` and ``len`` must be the builtins. Assumed (and left to the verifier): the
elements are totally ordered (a NaN or a set can make a sort and ``min`` disagree), and a
truthy ``xs`` is non-empty (a generator is truthy even when empty).
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import bound_names, variable_uses, visible_bindings

# The builtins the rewrite relies on; also the calls that only read their argument.
_BUILTINS = frozenset({"sorted", "min", "max", "len"})
_BUILTIN_CALL = m.Call(func=m.OneOf(*(m.Name(n) for n in _BUILTINS)))
_SORTED_INDEX = m.Subscript(
    value=m.Call(func=m.Name("sorted"), args=[m.Arg(m.Name()), m.ZeroOrMore()])
)


def _len_of(node: cst.BaseExpression, name: str) -> bool:
    return m.matches(node, m.Call(func=m.Name("len"), args=[m.Arg(m.Name(name), star="")]))


def _compares_len(test: cst.BaseExpression, name: str, ops: dict[type, str]) -> bool:
    """``len(name) <op> <int>`` with an (operator, integer) pair in ``ops``."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    return (
        _len_of(test.left, name)
        and isinstance(target.comparator, cst.Integer)
        and ops.get(type(target.operator)) == target.comparator.value
    )


def _nonempty_test(test: cst.BaseExpression, name: str) -> bool:
    """Whether ``test`` being true implies ``name`` is non-empty."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _nonempty_test(test.left, name) or _nonempty_test(test.right, name)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _empty_test(test.expression, name)
    return (
        m.matches(test, m.Name(name))
        or _len_of(test, name)
        or _compares_len(
            test, name, {cst.GreaterThan: "0", cst.GreaterThanEqual: "1", cst.NotEqual: "0"}
        )
    )


def _empty_test(test: cst.BaseExpression, name: str) -> bool:
    """Whether ``test`` being false implies ``name`` is non-empty."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _empty_test(test.left, name) or _empty_test(test.right, name)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _nonempty_test(test.expression, name)
    return _compares_len(test, name, {cst.Equal: "0", cst.LessThan: "1"})


def _guarded_branch(parent: cst.CSTNode, child: cst.CSTNode, name: str) -> bool:
    """Whether ``child`` of ``parent`` runs only when ``name`` is non-empty."""
    if isinstance(parent, (cst.If, cst.IfExp)):
        if child is parent.body:
            return _nonempty_test(parent.test, name)
        if child is parent.orelse:
            return _empty_test(parent.test, name)
    if isinstance(parent, cst.BooleanOperation) and child is parent.right:
        if isinstance(parent.operator, cst.And):
            return _nonempty_test(parent.left, name)
        return _empty_test(parent.left, name)
    return False


def _reads(ctx: RuleContext, use: cst.Name) -> bool:
    """Whether ``use`` only reads the variable: compared, iterated, indexed (not stored into)
    or passed to a builtin."""
    parent = ctx.parents[use]
    if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
        return True
    if isinstance(parent, cst.Subscript):
        return parent.value is use and not _assigned_to(ctx, parent)
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.iter is use
    if isinstance(parent, cst.Arg) and not parent.keyword and not parent.star:
        return m.matches(ctx.parents[parent], _BUILTIN_CALL)
    return False


def _only_read(ctx: RuleContext, region: cst.CSTNode, name: str) -> bool:
    return all(_reads(ctx, use) for use in variable_uses(region, name))


def _exits(suite: cst.BaseSuite) -> bool:
    """Whether ``suite`` always ends in ``return`` or ``raise``."""
    last = suite.body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1]
    return isinstance(last, (cst.Return, cst.Raise))


def _known_nonempty(ctx: RuleContext, subscript: cst.Subscript, name: str) -> bool:
    """Whether ``name`` is non-empty, and unchanged since that was tested, at ``subscript``."""
    child: cst.CSTNode = subscript
    for parent in ctx.ancestors(subscript):
        if _guarded_branch(parent, child, name):
            return _only_read(ctx, child, name)
        child = parent
    # No branch guards it: look for an early exit among the top-level statements before it.
    body = ctx.function.body
    if not isinstance(body, cst.IndentedBlock):
        return False
    top: cst.CSTNode = subscript
    while ctx.parents[top] is not body:
        top = ctx.parents[top]
    index = list(body.body).index(top)  # type: ignore[arg-type]
    for guard_index in reversed(range(index)):
        guard = body.body[guard_index]
        if (
            isinstance(guard, cst.If)
            and guard.orelse is None
            and _empty_test(guard.test, name)
            and _exits(guard.body)
        ):
            region = body.body[guard_index + 1 : index + 1]
            return all(_only_read(ctx, s, name) for s in region)
    return False


def _declared_global(function: cst.FunctionDef) -> set[str]:
    names: set[str] = set()
    for node in m.findall(function, m.Global() | m.Nonlocal()):
        assert isinstance(node, (cst.Global, cst.Nonlocal))
        names.update(item.name.value for item in node.names)
    return names


def _assigned_to(ctx: RuleContext, node: cst.CSTNode) -> bool:
    """Whether ``node`` is (part of) an assignment or ``del`` target (``sorted(x)[0] = v``)."""
    child = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, (cst.AssignTarget, cst.Del)):
            return True
        targeted = (cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor)
        if isinstance(parent, targeted) and child is parent.target:
            return True
        child = parent
    return False


def _replacement(subscript: cst.Subscript) -> cst.Call | None:
    """``min(...)``/``max(...)`` for ``sorted(name, ...)[0 or -1]``, or ``None``."""
    call = subscript.value
    if not m.matches(call, m.Call(func=m.Name("sorted"))) or len(subscript.slice) != 1:
        return None
    assert isinstance(call, cst.Call)
    index = subscript.slice[0].slice
    if not isinstance(index, cst.Index) or index.star is not None:
        return None
    if m.matches(index.value, m.Integer("0")):
        last = False
    elif m.matches(index.value, m.UnaryOperation(m.Minus(), m.Integer("1"))):
        last = True
    else:
        return None
    iterable, *options = call.args
    keywords = {a.keyword.value: a for a in options if a.keyword is not None}
    if iterable.keyword or iterable.star or len(keywords) != len(options):
        return None
    if set(keywords) - {"key", "reverse"}:
        return None
    reverse = keywords.get("reverse")
    if reverse is not None and not m.matches(reverse.value, m.Name("True") | m.Name("False")):
        return None
    descending = reverse is not None and m.matches(reverse.value, m.Name("True"))
    key = keywords.get("key")
    if key is not None and last:
        return None  # sorted(...)[-1] is the last of the tied extremes, min/max the first
    args = [iterable] if key is None else [iterable, key]
    args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst.Call(cst.Name("max" if last != descending else "min"), args)


class _Edit(cst.CSTTransformer):
    def __init__(self, subscripts: set[cst.CSTNode]) -> None:
        self.subscripts = subscripts

    def leave_Subscript(
        self, original: cst.Subscript, updated: cst.Subscript
    ) -> cst.BaseExpression:
        if original not in self.subscripts:
            return updated
        new = _replacement(updated)
        assert new is not None
        return new.with_changes(lpar=updated.lpar, rpar=updated.rpar)


class SortedIndexToMinMax(FunctionRule):
    name = "sorted_index_to_min_max"
    strategy = "algorithm"
    summary = "`sorted(xs)[0]` → `min(xs)`, `sorted(xs)[-1]` → `max(xs)` (where `xs` is non-empty)"

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _SORTED_INDEX))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        # Checked only now: it looks at the whole module.
        if (_BUILTINS | {"*"}) & visible_bindings(ctx.module, ctx.function):
            return None
        local = bound_names(ctx.function) - _declared_global(ctx.function)
        subscripts: set[cst.CSTNode] = set()
        for subscript in m.findall(ctx.function, _SORTED_INDEX):
            assert isinstance(subscript, cst.Subscript) and isinstance(subscript.value, cst.Call)
            name = subscript.value.args[0].value
            assert isinstance(name, cst.Name)
            if (
                name.value in local  # a global could change in any call between test and use
                and _replacement(subscript) is not None
                and not ctx.in_nested_scope(subscript)
                and not _assigned_to(ctx, subscript)
                and _known_nonempty(ctx, subscript, name.value)
            ):
                subscripts.add(subscript)
        if not subscripts:
            return None
        return ctx.function.visit(_Edit(subscripts))  # type: ignore[return-value]

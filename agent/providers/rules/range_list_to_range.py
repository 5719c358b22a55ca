"""``list(range(...))`` where any iterable would do → ``range(...)``: no list of every number.

A ``range`` holds three numbers and makes each item when asked; ``list(range(n))`` holds ``n``
int objects at once. Both evaluate the arguments of ``range`` once, at the same point, and
produce the same ints in the same order, so the rule fires where the list is only read as a
sequence of those ints:

* the ``in`` of a ``for`` statement (``for i in list(range(a, b, c)):``) or of a clause of a
  comprehension or generator expression: nothing else ever sees the list;
* the value of ``name = list(range(...))`` (one plain name, a plain ``=``), when that statement
  is the only place that binds ``name`` and every other mention of ``name`` in the function is
  one of these reads, which a ``range`` answers as the list does: the ``in`` of a (non-async)
  ``for`` or comprehension clause, ``len(name)``, ``name[i]`` with a plain index (not a slice,
  which would give a ``range``, and not as a target of ``=``, ``+=`` or ``del``), and
  ``x in name`` / ``x not in name`` (a ``range`` compares an int arithmetically, anything else
  with ``==`` one item at a time, as the list does). So the list is never rebound, mutated,
  compared, returned, passed on, declared ``global``/``nonlocal`` or mentioned by a nested def,
  lambda or class; and the function does not call ``locals``, ``vars``, ``dir``, ``eval`` or
  ``exec``, which could reach it.

``list`` and ``range`` must be the builtins where the call stands (scope analysis; a star
import stops the rule), ``list`` gets exactly one argument, and no comment is lost. Assumed:
nobody compares the ints by identity (``is``): a list hands out the same object twice, a range
a new one for a large int.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import UnwrapCalls, uses_dynamic_scope, variable_uses

_LIST_OF_RANGE = m.Call(
    func=m.Name("list"), args=[m.Arg(value=m.Call(func=m.Name("range")), keyword=None, star="")]
)
_BINDING = m.Assign(targets=[m.AssignTarget(m.Name())])
# The nodes whose ``target`` is written to: a subscript there changes the list.
_TARGET_HOLDERS = (cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr)


class RangeListToRange(FunctionRule):
    name = "range_list_to_range"
    strategy = "streaming"
    summary = (
        "`for i in list(range(n))` / `xs = list(range(n))` only iterated, indexed, measured or "
        "tested with `in` → `range(n)`"
    )

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _LIST_OF_RANGE))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        calls: set[cst.Call] = set()
        for call in m.findall(ctx.function, _LIST_OF_RANGE):
            assert isinstance(call, cst.Call)
            inner = call.args[0].value
            if not (ctx.is_builtin("list", call) and ctx.is_builtin("range", inner)):
                continue
            if len(m.findall(call, m.Comment())) != len(m.findall(inner, m.Comment())):
                continue  # a comment between ``list(`` and ``range`` would be lost
            parent = ctx.parents[call]
            if _iterated_by(parent, call) or (
                isinstance(parent, cst.Assign)
                and m.matches(parent, _BINDING)
                and _only_read_as_range(ctx, parent)
            ):
                calls.add(call)
        if not calls:
            return None
        return ctx.function.visit(UnwrapCalls(calls, lambda call: call.args[0].value))  # type: ignore[return-value]


def _iterated_by(parent: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Whether ``node`` is what the (non-async) ``for`` or comprehension clause ``parent``
    iterates."""
    return (
        isinstance(parent, (cst.For, cst.CompFor))
        and parent.iter is node
        and parent.asynchronous is None
    )


def _only_read_as_range(ctx: RuleContext, binding: cst.Assign) -> bool:
    """Whether the name ``binding`` binds is bound nowhere else and only read as a range."""
    target = binding.targets[0].target
    assert isinstance(target, cst.Name)
    if ctx.in_nested_scope(binding) or uses_dynamic_scope(ctx.function):
        return False
    return all(
        use is target or (not ctx.in_nested_scope(use) and _range_like_use(ctx, use))
        for use in variable_uses(ctx.function, target.value)
    )


def _range_like_use(ctx: RuleContext, use: cst.Name) -> bool:
    """``for … in name``, ``len(name)``, ``name[i]`` (read), ``x in name``, ``x not in name``."""
    parent = ctx.parents[use]
    if _iterated_by(parent, use):
        return True
    if isinstance(parent, cst.ComparisonTarget):
        return parent.comparator is use and isinstance(parent.operator, (cst.In, cst.NotIn))
    if isinstance(parent, cst.Arg):
        call = ctx.parents[parent]
        return (
            parent.value is use
            and m.matches(call, m.Call(func=m.Name("len"), args=[m.Arg(keyword=None, star="")]))
            and ctx.is_builtin("len", call)
        )
    if isinstance(parent, cst.Subscript):
        index = parent.slice[0].slice if len(parent.slice) == 1 else None
        return (
            parent.value is use
            and isinstance(index, cst.Index)
            and index.star is None
            and not _written(ctx, parent)
        )
    return False


def _written(ctx: RuleContext, node: cst.CSTNode) -> bool:
    """Whether ``node`` is (part of) what an assignment, a loop or ``del`` writes to."""
    child = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, (cst.AssignTarget, cst.Del)):
            return True
        if isinstance(parent, _TARGET_HOLDERS) and child is parent.target:
            return True
        if not isinstance(parent, (cst.Tuple, cst.List, cst.Element, cst.StarredElement)):
            return False
        child = parent
    return False

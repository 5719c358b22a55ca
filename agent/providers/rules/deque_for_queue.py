"""A local list used as a FIFO queue → ``collections.deque``.

``q.pop(0)`` and ``q.insert(0, v)`` shift every element of a list, so a loop that drains a queue
is quadratic; ``deque.popleft()`` and ``deque.appendleft(v)`` are O(1). Lists and deques agree
on only some operations, and a deque refuses to be mutated while it is iterated, so the rule
fires only when ``q`` is bound once (to ``[...]`` or ``list(x)``) and every other use is one of
``q.pop(0)``, ``q.pop()``, ``q.insert(0, v)``, ``q.append(v)``, ``q.extend(v)``, ``len(q)``, a
truth test (``if q``, ``while q``, ``not q``), ``v in q``, or ``for v in q`` whose body does not
mutate ``q``. So ``q`` never escapes (returned, passed, stored, captured) and is never indexed.
A front operation must also run inside a loop, or there is nothing to win.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import GlobalScope, ImportAssignment

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import uses_dynamic_scope, variable_uses

_MUTATORS = frozenset({"append", "extend", "insert", "pop"})

Binding = cst.Assign | cst.AnnAssign

_FRONT_CALL = m.Call(
    func=m.Attribute(attr=m.Name("pop") | m.Name("insert")),
    args=[m.Arg(m.Integer("0")), m.ZeroOrMore()],
)


class DequeForQueue(FunctionRule):
    name = "deque_for_queue"
    strategy = "data-structure"
    summary = (
        "local list used as a queue (`q.pop(0)` / `q.insert(0, v)` in a loop) → "
        "`collections.deque` with `popleft()` / `appendleft(v)`"
    )
    imports = (("collections", "deque"),)

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _FRONT_CALL))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if not _deque_is_free(ctx) or uses_dynamic_scope(ctx.function):
            return None
        bindings: set[cst.CSTNode] = set()
        fronts: dict[cst.CSTNode, str] = {}
        for binding in _list_bindings(ctx):
            edits = _front_edits(ctx, binding)
            if edits:
                bindings.add(binding)
                fronts.update(edits)
        if not bindings:
            return None
        return ctx.function.visit(_ToDeque(bindings, fronts))  # type: ignore[return-value]


def _deque_is_free(ctx: RuleContext) -> bool:
    """``deque`` in the function means ``collections.deque`` once the import is added."""
    for assignment in ctx.scope["deque"]:
        node = assignment.node if isinstance(assignment, ImportAssignment) else None
        if not (
            isinstance(node, cst.ImportFrom)
            and isinstance(assignment.scope, GlobalScope)
            and m.matches(node, m.ImportFrom(module=m.Name("collections")))
            and not isinstance(node.names, cst.ImportStar)
            and any(a.evaluated_name == "deque" and a.asname is None for a in node.names)
        ):
            return False
    return True


def _list_bindings(ctx: RuleContext) -> list[Binding]:
    """``name = [...]`` / ``name: list[...] = list(x)`` statements that make a fresh list."""
    found: list[Binding] = []
    for node in m.findall(
        ctx.function, m.Assign(targets=[m.AssignTarget(m.Name())]) | m.AnnAssign(target=m.Name())
    ):
        assert isinstance(node, (cst.Assign, cst.AnnAssign))
        value = node.value
        fresh_list = isinstance(value, cst.List) or (
            isinstance(value, cst.Call)
            and m.matches(value.func, m.Name("list"))
            and len(value.args) <= 1
            and all(not a.star and a.keyword is None for a in value.args)
            and ctx.is_builtin("list")
        )
        if fresh_list and not ctx.in_nested_scope(node):
            if isinstance(node, cst.AnnAssign) and _deque_annotation(node.annotation) is None:
                continue
            found.append(node)
    return found


def _bound_name(binding: Binding) -> cst.Name:
    name = binding.targets[0].target if isinstance(binding, cst.Assign) else binding.target
    assert isinstance(name, cst.Name)
    return name


def _front_edits(ctx: RuleContext, binding: Binding) -> dict[cst.CSTNode, str] | None:
    """The ``pop(0)``/``insert(0, v)`` calls to rename, or ``None`` if a use is not queue-safe."""
    bound = _bound_name(binding)
    edits: dict[cst.CSTNode, str] = {}
    front_in_loop = False
    for use in variable_uses(ctx.function, bound.value):
        if use is bound:
            continue
        if ctx.in_nested_scope(use):
            return None  # captured: the closure may run at any time
        parent = ctx.parents[use]
        call = ctx.parents.get(parent)
        if isinstance(parent, cst.Attribute) and isinstance(call, cst.Call) and call.func is parent:
            method = _method_edit(call, parent.attr.value)
            if method is None:
                return None
            if method != parent.attr.value:
                edits[call] = method
                front_in_loop |= any(
                    isinstance(a, (cst.For, cst.While)) for a in ctx.ancestors(call)
                )
        elif not (
            _is_len_argument(ctx, parent, call)
            or _is_truth_test(ctx, use)
            or _is_membership_test(parent, use)
            or _is_unmutated_iteration(parent, use)
        ):
            return None
    return edits if front_in_loop else None


def _method_edit(call: cst.Call, method: str) -> str | None:
    """The deque method for ``q.<method>(...)``: the same name, a front one, or ``None``."""
    if any(a.star or a.keyword is not None for a in call.args):
        return None
    args = [a.value for a in call.args]
    if method in ("append", "extend") and len(args) == 1:
        return method
    if method == "pop" and not args:
        return method
    if method == "pop" and len(args) == 1 and _is_zero(args[0]):
        return "popleft"
    if method == "insert" and len(args) == 2 and _is_zero(args[0]):
        return "appendleft"
    return None


def _is_len_argument(ctx: RuleContext, parent: cst.CSTNode, call: cst.CSTNode | None) -> bool:
    return (
        isinstance(call, cst.Call)
        and m.matches(call, m.Call(func=m.Name("len"), args=[m.Arg(keyword=None, star="")]))
        and call.args[0] is parent
        and ctx.is_builtin("len")
    )


def _is_truth_test(ctx: RuleContext, node: cst.CSTNode) -> bool:
    """Whether only the truth value of ``node`` is used (``q and x`` may evaluate to ``q``)."""
    parent = ctx.parents[node]
    if isinstance(parent, (cst.If, cst.While, cst.IfExp, cst.Assert, cst.CompIf)):
        return parent.test is node
    if isinstance(parent, cst.UnaryOperation):
        return isinstance(parent.operator, cst.Not)
    if isinstance(parent, cst.BooleanOperation):
        return _is_truth_test(ctx, parent)
    return False


def _is_membership_test(parent: cst.CSTNode, use: cst.Name) -> bool:
    return (
        isinstance(parent, cst.ComparisonTarget)
        and isinstance(parent.operator, (cst.In, cst.NotIn))
        and parent.comparator is use
    )


def _is_unmutated_iteration(parent: cst.CSTNode, use: cst.Name) -> bool:
    """``for v in q`` whose body leaves ``q`` alone: a deque raises if mutated mid-iteration."""
    if not (isinstance(parent, cst.For) and parent.iter is use and parent.asynchronous is None):
        return False
    mutation = m.Call(
        func=m.Attribute(
            value=m.Name(use.value), attr=m.Name(m.MatchIfTrue(lambda a: a in _MUTATORS))
        )
    )
    return not m.findall(parent.body, mutation)


def _is_zero(node: cst.BaseExpression) -> bool:
    return m.matches(node, m.Integer("0"))


def _deque_annotation(annotation: cst.Annotation) -> cst.Annotation | None:
    """``list`` / ``list[T]`` (or ``List``) → ``deque`` / ``deque[T]``; ``None`` otherwise."""
    expr = annotation.annotation
    if m.matches(expr, m.Name("list") | m.Name("List")):
        return annotation.with_changes(annotation=cst.Name("deque"))
    if isinstance(expr, cst.Subscript) and m.matches(expr.value, m.Name("list") | m.Name("List")):
        return annotation.with_changes(annotation=expr.with_changes(value=cst.Name("deque")))
    return None


def _deque_value(value: cst.BaseExpression) -> cst.Call:
    """``[]`` → ``deque()``, ``[a, b]`` → ``deque([a, b])``, ``list(x)`` → ``deque(x)``."""
    if isinstance(value, cst.Call):
        return value.with_changes(func=cst.Name("deque"))
    assert isinstance(value, cst.List)
    return cst.Call(cst.Name("deque"), [cst.Arg(value)] if value.elements else [])


class _ToDeque(cst.CSTTransformer):
    def __init__(self, bindings: set[cst.CSTNode], fronts: dict[cst.CSTNode, str]) -> None:
        super().__init__()
        self.bindings = bindings
        self.fronts = fronts

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        if original not in self.bindings:
            return updated
        return updated.with_changes(value=_deque_value(updated.value))

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        if original not in self.bindings or updated.value is None:
            return updated
        return updated.with_changes(
            annotation=_deque_annotation(updated.annotation), value=_deque_value(updated.value)
        )

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        method = self.fronts.get(original)
        if method is None or not isinstance(updated.func, cst.Attribute):
            return updated
        func = updated.func.with_changes(attr=cst.Name(method))
        if method == "popleft":
            return updated.with_changes(func=func, args=[])
        value = updated.args[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(func=func, args=[value])

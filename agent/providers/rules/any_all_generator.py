"""``any([... for ...])`` / ``all([...])`` → ``any(... for ...)``: stop at the decisive element.

The list comprehension builds every element before ``any``/``all`` looks at the first; the
generator stops as soon as the answer is known. That skips work, so it keeps behaviour only if
the skipped work had no effect. The rule therefore fires only when every element expression and
condition is made of names, constants, attribute reads, comparisons (``in`` too), ``and`` /
``or`` / ``not``, arithmetic, tuples and calls to the builtins ``len``, ``isinstance`` and
``abs``; and every iterable is a name, an attribute, a display of those, or a call to
``range`` / ``zip`` / ``enumerate`` / ``reversed``, ``.items()`` / ``.keys()`` / ``.values()``
on a name, or a few ``str`` methods (``split``, ``strip``…). A name iterated must not be a local
bound to anything but a fresh collection, so a one-shot iterator made in the function is never
left half consumed where the rest of the function could see it.

Two relaxations remain, both only on inputs where the skipped elements mattered:

* an element after the first decisive one that would have raised (``1 / x`` with ``x == 0``,
  ``len(None)``) is no longer evaluated, so the call returns instead of raising;
* an iterator passed in from outside (a parameter, a global) is left partly consumed; callers
  that read it afterwards see the elements the list comprehension would have eaten.

``sum([...])`` and friends are left alone: they consume everything anyway, and a generator is
slower than a list comprehension for that.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import Assignment

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.providers.rules.lazy_arguments import ListArgumentToGenerator, builtin_call

_PURE_CALLS = frozenset({"len", "isinstance", "abs"})
_ITERATOR_CALLS = frozenset({"range", "zip", "enumerate", "reversed"})
_DICT_VIEWS = frozenset({"items", "keys", "values"})
_STR_METHODS = frozenset(
    {"split", "rsplit", "splitlines", "strip", "lstrip", "rstrip", "lower", "upper", "casefold"}
)
# What a local may be bound to and still be safe to iterate partly: fresh collections.
_COLLECTION_CALLS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted", "range"})
_FRESH_COLLECTIONS = (
    cst.List, cst.Tuple, cst.Set, cst.Dict, cst.ListComp, cst.SetComp, cst.DictComp,
    cst.SimpleString,
)  # fmt: skip
_LEAVES = (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)


class AnyAllGenerator(FunctionRule):
    name = "any_all_generator"
    strategy = "builtins"
    summary = (
        "`any([... for ...])` / `all([...])` → `any(... for ...)`, short-circuiting; only when "
        "the skipped elements are side-effect free"
    )

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _ANY_ALL_OF_LIST))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        calls = {
            call
            for call in m.findall(ctx.function, _ANY_ALL_OF_LIST)
            if isinstance(call, cst.Call) and _is_safe(ctx, call)
        }
        if not calls:
            return None
        return ctx.function.visit(ListArgumentToGenerator(calls))  # type: ignore[return-value]


_ANY_ALL_OF_LIST = m.Call(
    func=m.Name("any") | m.Name("all"), args=[m.Arg(value=m.ListComp(), keyword=None, star="")]
)


def _is_safe(ctx: RuleContext, call: cst.Call) -> bool:
    assert isinstance(call.func, cst.Name)
    comp = call.args[0].value
    assert isinstance(comp, cst.ListComp)
    if not ctx.is_builtin(call.func.value, call):
        return False
    checks: list[bool] = [_pure(ctx, comp.elt)]
    clause: cst.CompFor | None = comp.for_in
    while clause is not None:
        checks.append(clause.asynchronous is None and _iterable(ctx, clause.iter))
        checks.extend(_pure(ctx, cond.test) for cond in clause.ifs)
        clause = clause.inner_for_in
    return all(checks)


def _pure(ctx: RuleContext, node: cst.BaseExpression) -> bool:
    """Whether evaluating ``node`` can have no effect beyond raising."""
    if isinstance(node, _LEAVES):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _pure(ctx, node.left) and _pure(ctx, node.right)
    if isinstance(node, cst.Attribute):
        return _pure(ctx, node.value) and isinstance(node.value, (cst.Name, cst.Attribute))
    if isinstance(node, cst.Comparison):
        comparators = [c.comparator for c in node.comparisons]
        return all(_pure(ctx, e) for e in [node.left, *comparators])
    if isinstance(node, (cst.BooleanOperation, cst.BinaryOperation)):
        return _pure(ctx, node.left) and _pure(ctx, node.right)
    if isinstance(node, cst.UnaryOperation):
        return _pure(ctx, node.expression)
    if isinstance(node, cst.Tuple):
        return all(isinstance(e, cst.Element) and _pure(ctx, e.value) for e in node.elements)
    if isinstance(node, cst.Call):
        return builtin_call(ctx, node, _PURE_CALLS) and _pure_args(ctx, node)
    return False


def _iterable(ctx: RuleContext, node: cst.BaseExpression) -> bool:
    """Whether creating and partly iterating ``node`` can have no effect beyond raising."""
    if isinstance(node, cst.Name):
        return _not_a_local_iterator(ctx, node)
    if isinstance(node, (cst.Attribute, cst.SimpleString, cst.ConcatenatedString)):
        return _pure(ctx, node)
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return all(isinstance(e, cst.Element) and _pure(ctx, e.value) for e in node.elements)
    if not isinstance(node, cst.Call):
        return False
    if builtin_call(ctx, node, _ITERATOR_CALLS):
        return all(
            not a.star and a.keyword is None and (_iterable(ctx, a.value) or _pure(ctx, a.value))
            for a in node.args
        )
    method = node.func
    if not isinstance(method, cst.Attribute):
        return False
    if method.attr.value in _DICT_VIEWS:
        return isinstance(method.value, cst.Name) and not node.args
    if method.attr.value in _STR_METHODS:
        return _pure(ctx, method.value) and _pure_args(ctx, node)
    return False


def _pure_args(ctx: RuleContext, call: cst.Call) -> bool:
    return all(not a.star and a.keyword is None and _pure(ctx, a.value) for a in call.args)


def _not_a_local_iterator(ctx: RuleContext, name: cst.Name) -> bool:
    """A name is fine to iterate partly unless the function binds it to a possible iterator."""
    scope = ctx.scopes.get(name)
    for assignment in scope[name.value] if scope is not None else ():
        if not isinstance(assignment, Assignment) or assignment.scope is not ctx.scope:
            continue  # a parameter's or global's value comes from outside: see the docstring
        if isinstance(assignment.node, cst.Param):
            continue
        binder = ctx.parents.get(assignment.node)
        while isinstance(binder, (cst.AssignTarget, cst.Element, cst.Tuple, cst.List)):
            binder = ctx.parents.get(binder)
        if isinstance(binder, cst.For):
            continue  # an element of something else, not an iterator made here
        value = binder.value if isinstance(binder, (cst.Assign, cst.AnnAssign)) else None
        if not _fresh_collection(ctx, value):
            return False
    return True


def _fresh_collection(ctx: RuleContext, value: cst.BaseExpression | None) -> bool:
    if isinstance(value, _FRESH_COLLECTIONS):
        return True
    return isinstance(value, cst.Call) and (
        builtin_call(ctx, value, _COLLECTION_CALLS)
        or m.matches(value.func, m.Attribute(attr=m.Name(m.MatchIfTrue(_STR_METHODS.__contains__))))
    )

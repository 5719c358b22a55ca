"""``sum([e for x in xs])`` → ``sum(e for x in xs)`` (also ``min`` and ``max``): no list of every
element held at once.

The list comprehension builds all the elements, then ``sum``/``min``/``max`` reads them; the
generator hands each element over as it is made, so only one is alive at a time. Unlike
``any``/``all`` there is no short-circuit: these builtins consume every element, in order, so
the same expressions run on the same values in the same order, and an exception raised by an
element still propagates out of the call. What changes is only *when* the reduction steps
(``+``, comparisons, the ``key``) run: between the elements instead of after all of them. The
rule fires where nothing can tell the difference:

* the called name is the builtin ``sum``, ``min`` or ``max`` where the call stands (scope
  analysis; a star import in the module stops the rule);
* the list comprehension is the only positional argument (a second one would make ``min``
  compare the list itself with it), except for ``sum``'s ``start`` (second positional, or
  ``start=``); ``min``/``max`` may keep ``key=`` and ``default=``; no ``*``/``**`` argument;
* the element, every condition and every ``in`` after the first are pure, as in
  ``any_all_generator``: names, constants, attribute reads, subscripts, comparisons, ``and`` /
  ``or`` / ``not``, arithmetic, conditional expressions, tuples, and calls to the builtins
  ``len``, ``abs``, ``isinstance``, ``int``, ``float``, ``str``, ``bool``, ``ord``, ``round``,
  ``min``, ``max`` and ``sum`` (an inner ``in`` may also be ``range`` / ``zip`` /
  ``enumerate`` / ``reversed`` of those, or ``.items()`` / ``.keys()`` / ``.values()`` of a
  name). So no lambda or nested generator (which would capture the loop variable late), no
  ``:=`` (a binding the ``key`` could read half-way), no ``yield`` / ``await``, no
  ``async for``, no ``super`` or ``locals()`` (which differ in a generator's scope);
* the first ``in`` (evaluated at once, in the function's own scope, in both forms) holds none
  of these forbidden constructs either;
* ``start`` and ``default``, evaluated before the elements instead of after them, are pure;
  ``key`` is a name, an attribute (``d.get``, ``str.lower``) or a lambda with a pure body.

Assumed, and left to the verifier: the elements' own ``+`` / ``<`` and the ``key`` function
have no effect (true of numbers, strings and tuples); an iterator passed in is one nobody else
advances meanwhile. One relaxation remains, only on inputs that raise anyway: when an element
raises *and* the reduction of the elements before it would have raised too (``sum`` of a string
and a number), the reduction's ``TypeError`` now comes first.

A generator may be a little slower than a list comprehension here; the rule is for
``--objective memory``.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.providers.rules.lazy_arguments import ListArgumentToGenerator, builtin_call
from agent.syntax import names_in, uses_dynamic_scope

_REDUCERS = frozenset({"sum", "min", "max"})
_PURE_CALLS = frozenset(
    {"len", "abs", "isinstance", "int", "float", "str", "bool", "ord", "round", "min", "max", "sum"}
)
_ITERATOR_CALLS = frozenset({"range", "zip", "enumerate", "reversed"})
_DICT_VIEWS = frozenset({"items", "keys", "values"})
_LEAVES = (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)
# Constructs whose meaning changes when the elements are made lazily, in a generator's scope.
_FORBIDDEN = m.Lambda() | m.GeneratorExp() | m.NamedExpr() | m.Yield() | m.Await()
_SCOPE_SENSITIVE = frozenset({"super", "__class__"})

_REDUCE_LIST = m.Call(
    func=m.Name(m.MatchIfTrue(_REDUCERS.__contains__)),
    args=[m.Arg(value=m.ListComp(), keyword=None, star=""), m.ZeroOrMore()],
)


class SumListToGenerator(FunctionRule):
    name = "sum_list_to_generator"
    strategy = "streaming"
    summary = (
        "`sum([... for ...])` / `min([...])` / `max([...])` → `sum(... for ...)`, one element "
        "alive at a time; only when the elements are side-effect free"
    )

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _REDUCE_LIST))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        calls = {
            call
            for call in m.findall(ctx.function, _REDUCE_LIST)
            if isinstance(call, cst.Call) and _is_safe(ctx, call)
        }
        if not calls:
            return None
        return ctx.function.visit(ListArgumentToGenerator(calls))  # type: ignore[return-value]


def _is_safe(ctx: RuleContext, call: cst.Call) -> bool:
    assert isinstance(call.func, cst.Name)
    reducer = call.func.value
    comp = call.args[0].value
    assert isinstance(comp, cst.ListComp)
    if not ctx.is_builtin(reducer, call) or not _other_args_safe(ctx, reducer, call.args[1:]):
        return False
    if m.findall(comp, _FORBIDDEN) or uses_dynamic_scope(comp):
        return False
    if _SCOPE_SENSITIVE & names_in(comp):
        return False
    checks: list[bool] = [_pure(ctx, comp.elt)]
    clause: cst.CompFor | None = comp.for_in
    while clause is not None:
        checks.append(clause.asynchronous is None)
        if clause is not comp.for_in:  # the first ``in`` is evaluated once, up front
            checks.append(_iterable(ctx, clause.iter))
        checks.extend(_pure(ctx, cond.test) for cond in clause.ifs)
        clause = clause.inner_for_in
    return all(checks)


def _other_args_safe(ctx: RuleContext, reducer: str, args: Sequence[cst.Arg]) -> bool:
    """``sum``: at most a pure ``start``; ``min``/``max``: only ``key=`` and a pure ``default=``."""
    if any(a.star for a in args):
        return False
    if reducer == "sum":
        if len(args) > 1:
            return False
        return all(
            (a.keyword is None or a.keyword.value == "start") and _pure(ctx, a.value) for a in args
        )
    keywords = [a.keyword.value for a in args if a.keyword is not None]
    if len(keywords) != len(args) or len(set(keywords)) != len(keywords):
        return False
    for arg in args:
        assert arg.keyword is not None
        if arg.keyword.value == "default":
            if not _pure(ctx, arg.value):
                return False
        elif arg.keyword.value != "key" or not _plain_key(ctx, arg.value):
            return False
    return True


def _plain_key(ctx: RuleContext, key: cst.BaseExpression) -> bool:
    """A function reference, or a lambda whose body is pure."""
    if isinstance(key, cst.Lambda):
        return not m.findall(key.body, _FORBIDDEN) and _pure(ctx, key.body)
    while isinstance(key, cst.Attribute):
        key = key.value
    return isinstance(key, cst.Name)


def _pure(ctx: RuleContext, node: cst.BaseExpression) -> bool:
    """Whether evaluating ``node`` can have no effect beyond raising."""
    if isinstance(node, _LEAVES):
        return True
    if isinstance(node, cst.ConcatenatedString):  # an f-string part calls __format__
        return _pure(ctx, node.left) and _pure(ctx, node.right)
    if isinstance(node, cst.Attribute):
        return _pure(ctx, node.value)
    if isinstance(node, cst.Subscript):
        return _pure(ctx, node.value) and all(_pure_slice(ctx, s.slice) for s in node.slice)
    if isinstance(node, cst.Comparison):
        comparators = [c.comparator for c in node.comparisons]
        return all(_pure(ctx, e) for e in [node.left, *comparators])
    if isinstance(node, (cst.BooleanOperation, cst.BinaryOperation)):
        return _pure(ctx, node.left) and _pure(ctx, node.right)
    if isinstance(node, cst.UnaryOperation):
        return _pure(ctx, node.expression)
    if isinstance(node, cst.IfExp):
        return all(_pure(ctx, e) for e in (node.test, node.body, node.orelse))
    if isinstance(node, cst.Tuple):
        return all(isinstance(e, cst.Element) and _pure(ctx, e.value) for e in node.elements)
    if isinstance(node, cst.Call):
        return builtin_call(ctx, node, _PURE_CALLS) and _pure_args(ctx, node)
    return False


def _pure_slice(ctx: RuleContext, part: cst.BaseSlice) -> bool:
    if isinstance(part, cst.Index):
        return part.star is None and _pure(ctx, part.value)
    if isinstance(part, cst.Slice):
        return all(e is None or _pure(ctx, e) for e in (part.lower, part.upper, part.step))
    return False


def _iterable(ctx: RuleContext, node: cst.BaseExpression) -> bool:
    """Whether evaluating an inner ``in`` (once per outer element) can have no effect."""
    if _pure(ctx, node):
        return True
    if not isinstance(node, cst.Call):
        return False
    if builtin_call(ctx, node, _ITERATOR_CALLS):
        return all(
            not a.star and a.keyword is None and (_pure(ctx, a.value) or _iterable(ctx, a.value))
            for a in node.args
        )
    return m.matches(
        node,
        m.Call(
            func=m.Attribute(value=m.Name(), attr=m.Name(m.MatchIfTrue(_DICT_VIEWS.__contains__))),
            args=[],
        ),
    )


def _pure_args(ctx: RuleContext, call: cst.Call) -> bool:
    return all(not a.star and a.keyword is None and _pure(ctx, a.value) for a in call.args)

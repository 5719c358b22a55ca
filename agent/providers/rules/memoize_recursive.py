"""Memoize a pure, self-recursive module-level function with ``functools.lru_cache``.

Recursion with overlapping subproblems (``fib(n - 1) + fib(n - 2)``) is exponential; a cache
makes it linear. A cache is invisible only if the function's result depends on nothing but its
arguments, has no effects, and callers cannot tell a shared result from a fresh one. The rule
shows that from the code, strictly:

* a module-level ``def`` (not async, not decorated) that calls itself by its name, which the
  module binds only to that ``def``;
* every parameter annotated ``int``, ``str``, ``bool``, ``bytes``, ``None`` or ``tuple[...]`` /
  ``frozenset[...]`` of those (``X | None``, ``Optional[X]`` too), no ``*args``/``**kwargs``,
  so arguments are hashable and cannot change; the return annotation is immutable as well
  (``float`` allowed there), so a cached result cannot be mutated by one caller under another;
* the body has no ``global``/``nonlocal``, ``yield``/``await``, ``import``, ``with``, nested
  ``def``/``lambda``/``class``, no assignment or ``del`` through an attribute or subscript;
  calls only itself, a few pure builtins, builtin exceptions, and ``str`` methods on string
  literals or ``str`` parameters; and reads no module-level name but its own and ALL_CAPS
  constants bound once to a literal.

The decorator is ``lru_cache(maxsize=None, typed=True)``, not ``cache``: ``typed`` keeps
``f(1)`` and ``f(True)`` apart, which compare equal but may give different results. ``float``
parameters are refused because ``0.0`` and ``-0.0`` share a cache entry even then; and inside
tuples ``typed`` does not apply, so ``(1,)`` and ``(True,)`` still share one. Before Python
3.13 each recursive call also passes through the cache's C wrapper, which halves the depth
reachable before ``RecursionError``: a call between about half the limit and the limit deep
raises after the rewrite. The rule cannot see call depths; the verifier's tests must.
"""

from __future__ import annotations

import builtins

import libcst as cst
import libcst.matchers as m
from libcst.metadata import BaseAssignment, BuiltinAssignment, GlobalScope, ImportAssignment

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import NESTED_SCOPES, variable_uses

_PURE_BUILTINS = frozenset(
    {
        "len", "min", "max", "abs", "range", "int", "str", "float", "bool", "tuple", "sum",
        "sorted", "divmod", "pow", "round", "enumerate", "zip", "any", "all", "isinstance",
        "ord", "chr", "frozenset",
    }
)  # fmt: skip
_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
_CONSTANTS = frozenset({"None", "True", "False", "Ellipsis", "NotImplemented"})
_STR_METHODS = frozenset(name for name in dir(str) if not name.startswith("_"))
_PARAMETER_TYPES = frozenset({"int", "str", "bool", "bytes"})
_RETURN_TYPES = _PARAMETER_TYPES | {"float"}
_CONTAINERS = frozenset({"tuple", "Tuple", "frozenset", "FrozenSet", "Optional"})
_STATEFUL = (
    cst.Global, cst.Nonlocal, cst.Yield, cst.Await, cst.Import, cst.ImportFrom, cst.With,
    *NESTED_SCOPES,
)  # fmt: skip

_DECORATOR = cst.Decorator(cst.parse_expression("functools.lru_cache(maxsize=None, typed=True)"))


class MemoizeRecursive(FunctionRule):
    name = "memoize_recursive"
    strategy = "caching"
    summary = (
        "pure self-recursive function with immutable annotated parameters → "
        "`@functools.lru_cache(maxsize=None, typed=True)`"
    )
    imports = (("functools", None),)

    def candidate(self, function: cst.FunctionDef) -> bool:
        return _calls_itself(function)

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        function = ctx.function
        if not (
            ctx.parents.get(function) is ctx.module
            and not function.decorators
            and function.asynchronous is None
            and _immutable_signature(function)
            and _functools_is_free(ctx)
            and _is_pure(ctx)
        ):
            return None
        return function.with_changes(decorators=[_DECORATOR])


def _immutable(annotation: cst.BaseExpression, types: frozenset[str]) -> bool:
    """Whether the annotation names a hashable, immutable type built from ``types``."""
    if isinstance(annotation, cst.Name):
        return annotation.value in types or annotation.value == "None"
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _immutable(annotation.left, types) and _immutable(annotation.right, types)
    if isinstance(annotation, cst.Subscript) and m.matches(
        annotation.value, m.Name(m.MatchIfTrue(_CONTAINERS.__contains__))
    ):
        return all(
            isinstance(element.slice, cst.Index)
            and (
                isinstance(element.slice.value, cst.Ellipsis)  # ``tuple[int, ...]``
                or _immutable(element.slice.value, types)
            )
            for element in annotation.slice
        )
    return False


def _immutable_signature(function: cst.FunctionDef) -> bool:
    params = function.params
    if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
        return False
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return (
        all(p.annotation and _immutable(p.annotation.annotation, _PARAMETER_TYPES) for p in every)
        and function.returns is not None
        and _immutable(function.returns.annotation, _RETURN_TYPES)
    )


def _functools_is_free(ctx: RuleContext) -> bool:
    """``functools`` at module level is unbound or the module itself."""
    module_scope = ctx.scopes[ctx.function]
    assert module_scope is not None
    return all(
        isinstance(a, ImportAssignment)
        and m.matches(a.node, m.Import(names=[m.ImportAlias(m.Name("functools"), asname=None)]))
        for a in module_scope["functools"]
    )


def _is_pure(ctx: RuleContext) -> bool:
    body = ctx.function.body
    if m.findall(body, m.MatchIfTrue(lambda node: isinstance(node, _STATEFUL))):
        return False
    if any(m.findall(t, m.Attribute() | m.Subscript()) for t in _assignment_targets(body)):
        return False
    calls = m.findall(body, m.Call())
    return all(_allowed_call(ctx, c) for c in calls if isinstance(c, cst.Call)) and all(
        _allowed_read(ctx, n) for n in variable_uses(body)
    )


def _assignment_targets(body: cst.CSTNode) -> list[cst.CSTNode]:
    targets: list[cst.CSTNode] = []
    for node in m.findall(body, m.Assign() | m.AugAssign() | m.AnnAssign() | m.For() | m.Del()):
        if isinstance(node, cst.Assign):
            targets.extend(t.target for t in node.targets)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.Del)):
            targets.append(node.target)
    targets.extend(c.target for c in m.findall(body, m.CompFor()) if isinstance(c, cst.CompFor))
    return targets


def _bindings(ctx: RuleContext, name: cst.Name) -> list[BaseAssignment]:
    """What ``name`` may refer to where it is read."""
    scope = ctx.scopes.get(name)
    return list(scope[name.value]) if scope is not None else []


def _allowed_call(ctx: RuleContext, call: cst.Call) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        bindings = _bindings(ctx, func)
        if func.value == ctx.function.name.value:
            return [getattr(b, "node", None) for b in bindings] == [ctx.function]
        return func.value in _PURE_BUILTINS | _EXCEPTIONS and ctx.is_builtin(func.value, func)
    if isinstance(func, cst.Attribute) and func.attr.value in _STR_METHODS:
        return _is_str(ctx, func.value)
    return False


def _is_str(ctx: RuleContext, node: cst.BaseExpression) -> bool:
    """A string literal, or a ``str`` parameter never rebound."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return True
    if not isinstance(node, cst.Name):
        return False
    bindings = _bindings(ctx, node)
    param = getattr(bindings[0], "node", None) if len(bindings) == 1 else None
    return isinstance(param, cst.Param) and m.matches(
        param, m.Param(annotation=m.Annotation(m.Name("str")))
    )


def _allowed_read(ctx: RuleContext, name: cst.Name) -> bool:
    """Locals, its own name, ALL_CAPS constants, and the allowed builtins."""
    bindings = _bindings(ctx, name)
    if not bindings:
        return False  # unknown: maybe set later with ``globals()`` or ``setattr``
    if all(isinstance(b, BuiltinAssignment) for b in bindings):
        return name.value in _PURE_BUILTINS | _EXCEPTIONS | _CONSTANTS
    if not any(isinstance(b.scope, GlobalScope) for b in bindings):
        return True  # a local (or comprehension) variable
    if len(bindings) != 1:
        return False
    node = getattr(bindings[0], "node", None)
    if name.value == ctx.function.name.value:
        return node is ctx.function
    return name.value.isupper() and _literal_constant(ctx, node)


def _literal_constant(ctx: RuleContext, node: cst.CSTNode | None) -> bool:
    """``NAME = <literal>`` as a module-level statement (bound nowhere else, checked by caller)."""
    binder = ctx.parents.get(node) if node is not None else None
    if isinstance(binder, cst.AssignTarget):
        binder = ctx.parents.get(binder)
    if not isinstance(binder, (cst.Assign, cst.AnnAssign)) or binder.value is None:
        return False
    line = ctx.parents.get(binder)
    return line is not None and ctx.parents.get(line) is ctx.module and _literal(binder.value)


def _literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, cst.UnaryOperation):
        return _literal(node.expression)
    if isinstance(node, cst.BinaryOperation):
        return _literal(node.left) and _literal(node.right)
    if isinstance(node, cst.Tuple):
        return all(isinstance(e, cst.Element) and _literal(e.value) for e in node.elements)
    return False


def _calls_itself(function: cst.FunctionDef) -> bool:
    # Which ``own`` the call refers to is checked with the other calls, in ``_allowed_call``.
    own = function.name.value
    return bool(m.findall(function.body, m.Call(func=m.Name(own))))

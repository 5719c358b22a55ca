"""Hoist ``math.sqrt`` / ``out.append`` out of loops: look the attribute up once, not per call.

Inside a loop, ``math.sqrt(x)`` pays for a global lookup and an attribute lookup on every
iteration, and ``out.append(x)`` creates a bound method each time. Binding the callable to a
local just before the outermost loop (``_sqrt = math.sqrt``, ``out_append = out.append``) does
the lookup once. That keeps behaviour when the lookup gives the same object every time, which
the rule shows for two kinds of base:

* a standard-library module imported once at module level (``import math``, ``import os.path``),
  which the function never rebinds, where the attribute (``sqrt``; ``path.join`` through
  submodules) exists on the real module and is a function or class -- checked by importing the
  standard-library module, never user code;
* a local bound once, before the loop in the same or an enclosing block, to a ``list`` / ``dict``
  / ``set`` display or ``list()`` / ``dict()`` / ``set()`` call, never rebound or deleted, where
  the attribute is a method of that type: the bound method of one object never changes.

Only calls that run once per iteration (a ``for`` body, a ``while`` test or body; not a nested
``def`` or ``lambda``) are rewritten. A function that calls ``locals()`` (or ``vars``, ``eval``,
``exec``) is left alone, as the new local would show there.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys

import libcst as cst
from libcst.metadata import Assignment, ImportAssignment

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import fresh_name, loops_in, names_in, uses_dynamic_scope, variable_uses

Loop = cst.For | cst.While
Chain = tuple[str, ...]

# Standard-library modules that act when imported.
_IMPORT_HAS_EFFECTS = frozenset({"antigravity", "this", "__hello__", "__phello__"})
_BUILTIN_TYPES: dict[str, type] = {"list": list, "dict": dict, "set": set}
_DISPLAYS: dict[type[cst.CSTNode], type] = {
    cst.List: list, cst.ListComp: list, cst.Dict: dict, cst.DictComp: dict,
    cst.Set: set, cst.SetComp: set,
}  # fmt: skip


class HoistAttributeLookup(FunctionRule):
    name = "hoist_attribute_lookup"
    strategy = "repeated-work"
    summary = (
        "in loops, `math.sqrt(x)` / `out.append(x)` → `_sqrt(x)` / `out_append(x)` with the "
        "lookup hoisted before the outermost loop (stdlib modules and local list/dict/set only)"
    )
    # The hoist's own assignment costs about what a few lookups save: measured 0.63× on loops
    # of one to three items. Only targets whose real calls had longer inputs get it.
    min_items = 8

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(loops_in(function))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if uses_dynamic_scope(ctx.function):
            return None
        collector = _RepeatedCalls(ctx.function)
        ctx.function.visit(collector)
        calls: dict[cst.CSTNode, Chain] = {}
        loops: dict[cst.CSTNode, list[Chain]] = {}
        stems: dict[Chain, str] = {}
        for call, chain, base, loop in collector.found:
            if _module_callable(ctx, chain, base):
                # ``_sqrt = math.sqrt``; one underscore only, as ``__x`` is mangled in classes.
                stems[chain] = "_" + chain[-1].lstrip("_")
            elif _local_method(ctx, chain, base, loop):
                stems[chain] = "_".join(chain)  # ``out_append = out.append``
            else:
                continue
            calls[call] = chain
            chains = loops.setdefault(loop, [])
            if chain not in chains:
                chains.append(chain)
        if not calls:
            return None
        taken = names_in(ctx.module)
        aliases = {chain: fresh_name(taken, stem) for chain, stem in stems.items()}
        return ctx.function.visit(_Hoist(ctx.function, calls, loops, aliases))  # type: ignore[return-value]


def _chain(func: cst.BaseExpression) -> tuple[Chain, cst.Name] | None:
    """``a.b`` / ``a.b.c`` as names, with the base ``Name`` node."""
    names: list[str] = []
    while isinstance(func, cst.Attribute):
        names.append(func.attr.value)
        func = func.value
    if not isinstance(func, cst.Name) or not 1 <= len(names) <= 2:
        return None
    return (func.value, *reversed(names)), func


class _RepeatedCalls(cst.CSTVisitor):
    """Calls of ``a.b(...)`` / ``a.b.c(...)`` that run once per iteration of a loop."""

    def __init__(self, function: cst.FunctionDef) -> None:
        super().__init__()
        self.function = function
        self.loop: Loop | None = None  # the outermost loop around the visit
        self.repeated = False
        self.found: list[tuple[cst.Call, Chain, cst.Name, Loop]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.function

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_For(self, node: cst.For) -> bool:
        if self.loop is not None:
            return True  # inside a loop everything repeats
        self._outermost(node, once=[node.iter], repeated=[node.target, node.body])
        return False

    def visit_While(self, node: cst.While) -> bool:
        if self.loop is not None:
            return True
        self._outermost(node, once=[], repeated=[node.test, node.body])
        return False

    def _outermost(self, loop: Loop, once: list[cst.CSTNode], repeated: list[cst.CSTNode]) -> None:
        self.loop = loop
        for part in once:
            part.visit(self)
        self.repeated = True
        for part in repeated:
            part.visit(self)
        self.repeated = False
        self.loop = None
        if loop.orelse is not None:
            loop.orelse.visit(self)  # runs once, after the loop

    def visit_Call(self, node: cst.Call) -> None:
        found = _chain(node.func)
        if self.repeated and self.loop is not None and found is not None:
            self.found.append((node, *found, self.loop))


def _module_callable(ctx: RuleContext, chain: Chain, base: cst.Name) -> bool:
    """``base`` is a stdlib module imported once at module level; ``chain`` a callable in it."""
    scope = ctx.scopes.get(base)
    bindings = list(scope[base.value]) if scope is not None else []
    if len(bindings) != 1 or not isinstance(bindings[0], ImportAssignment):
        return False
    statement = bindings[0].node
    line = ctx.parents.get(statement)
    if not isinstance(statement, cst.Import) or line is None:
        return False
    if ctx.parents.get(line) is not ctx.module:
        return False  # under ``if``/``try``: maybe not imported, or another module
    for alias in statement.names:
        if alias.evaluated_alias == base.value:  # ``import os.path as p``: ``p`` is os.path
            return _stdlib_callable(alias.evaluated_name, chain[1:])
        if alias.asname is None and alias.evaluated_name.split(".")[0] == base.value:
            return _stdlib_callable(base.value, chain[1:])  # ``import os.path`` binds ``os``
    return False


@functools.cache
def _stdlib_callable(module: str, attributes: Chain) -> bool:
    """``module.a.b`` exists, goes through submodules only, and ends in a function or class."""
    top = module.split(".")[0]
    if top not in sys.stdlib_module_names or top in _IMPORT_HAS_EFFECTS:
        return False
    try:
        value: object = importlib.import_module(module)
        for attribute in attributes[:-1]:
            value = getattr(value, attribute)
            if not inspect.ismodule(value):
                return False  # ``sys.stdout.write``: ``sys.stdout`` may be swapped in the loop
        value = getattr(value, attributes[-1])
    except Exception:  # any failure means the lookup cannot be shown to be stable
        return False
    return inspect.isroutine(value) or inspect.isclass(value)


def _local_binding(ctx: RuleContext, base: cst.Name) -> cst.Assign | None:
    """The one ``base = ...`` statement of a local bound exactly once."""
    scope = ctx.scopes.get(base)
    bindings = list(scope[base.value]) if scope is not None else []
    if len(bindings) != 1 or not isinstance(bindings[0], Assignment):
        return None
    if bindings[0].scope is not ctx.scope or not isinstance(bindings[0].node, cst.Name):
        return None
    assign_target = ctx.parents.get(bindings[0].node)
    assign = ctx.parents.get(assign_target) if assign_target is not None else None
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    return assign


def _local_type(ctx: RuleContext, assign: cst.Assign) -> type | None:
    value = assign.value
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
        name = value.func.value
        if name in _BUILTIN_TYPES and ctx.is_builtin(name, value):
            return _BUILTIN_TYPES[name]
        return None
    return _DISPLAYS.get(type(value))


def _local_method(ctx: RuleContext, chain: Chain, base: cst.Name, loop: Loop) -> bool:
    """``base`` is a list/dict/set bound once before ``loop``; ``chain[1]`` one of its methods."""
    assign = _local_binding(ctx, base) if len(chain) == 2 else None
    kind = _local_type(ctx, assign) if assign is not None else None
    if assign is None or kind is None:
        return False
    if chain[1].startswith("_") or not callable(getattr(kind, chain[1], None)):
        return False
    for use in variable_uses(ctx.function, base.value):
        ancestors = list(ctx.ancestors(use))
        if any(isinstance(a, (cst.Del, cst.Global, cst.Nonlocal)) for a in ancestors):
            return False
    return _bound_before(ctx, assign, loop)


def _bound_before(ctx: RuleContext, assign: cst.Assign, loop: Loop) -> bool:
    """``assign`` runs before ``loop`` on every path: an earlier statement of an enclosing block."""
    line = ctx.parents.get(assign)
    block = ctx.parents.get(line) if line is not None else None
    if line is None or not isinstance(block, cst.IndentedBlock):
        return False  # a one-line suite (``if c: out = []``) is never an enclosing block
    statement: cst.CSTNode = loop
    for ancestor in ctx.ancestors(loop):
        if ancestor is block:
            body: list[cst.CSTNode] = list(block.body)
            return body.index(line) < body.index(statement)
        statement = ancestor
    return False


class _Hoist(cst.CSTTransformer):
    def __init__(
        self,
        function: cst.FunctionDef,
        calls: dict[cst.CSTNode, Chain],
        loops: dict[cst.CSTNode, list[Chain]],
        aliases: dict[Chain, str],
    ) -> None:
        super().__init__()
        self.function = function
        self.calls = calls
        self.loops = loops
        self.aliases = aliases

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node is self.function

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        chain = self.calls.get(original)
        if chain is None:
            return updated
        return updated.with_changes(func=cst.Name(self.aliases[chain]))

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        # Blocks nested in a statement change inside it, never this block's length, so the
        # original statements (which ``loops`` knows) line up with the updated ones.
        body: list[cst.BaseStatement] = []
        for old, new in zip(original.body, updated.body, strict=True):
            chains = self.loops.get(old, [])
            hoisted = [
                cst.SimpleStatementLine(
                    [cst.Assign([cst.AssignTarget(cst.Name(self.aliases[c]))], _dotted(c))]
                )
                for c in chains
            ]
            if hoisted:
                assert isinstance(new, (cst.For, cst.While))
                # Comments and blank lines above the loop stay above the hoisted lookups.
                hoisted[0] = hoisted[0].with_changes(leading_lines=new.leading_lines)
                new = new.with_changes(leading_lines=[])
            body.extend([*hoisted, new])
        return updated.with_changes(body=body)


def _dotted(chain: Chain) -> cst.BaseExpression:
    expression: cst.BaseExpression = cst.Name(chain[0])
    for attribute in chain[1:]:
        expression = cst.Attribute(expression, cst.Name(attribute))
    return expression

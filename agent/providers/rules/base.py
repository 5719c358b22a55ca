"""What a rule is, and the one base class rules are written with (the libcst helpers they share
are in ``agent/syntax.py``).

A rule is a codemod for one well-known performance anti-pattern. It looks only at the target
function, and returns a rewritten module when (and only when) it can show the rewrite keeps
behaviour; otherwise ``None``. The verifier checks every candidate anyway, so a rule errs on
the side of not firing.

A rule subclasses :class:`FunctionRule` and implements :meth:`FunctionRule.rewrite`, which gets
a :class:`RuleContext`: the target function, its module, and analyses of that module (parents,
scopes) computed when the rule first asks for them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

import libcst as cst
import libcst.matchers as m
from libcst.metadata import BuiltinAssignment, MetadataWrapper, Scope, ScopeProvider

from agent.syntax import (
    NESTED_SCOPES,
    Import,
    add_imports,
    find_function,
    insert_after_imports,
    parent_map,
    replace_function,
)


class Rule(Protocol):
    name: str
    summary: str
    strategy: str  # the optimization strategy it applies (prompts/strategies.toml)

    def apply(self, module: cst.Module, qualname: str) -> cst.Module | None:
        """Rewrite the function ``qualname`` in ``module``; ``None`` when the rule does not fire."""
        ...


class _NoScopeAnalysis(Exception):
    """The module defeats scope analysis, so a rule that asks for it does not fire."""


class RuleContext:
    """The function a rule rewrites, in its module, with analyses of that module on demand.

    The analyses are keyed by node identity: look up nodes of ``module`` (``function`` is one),
    not of a rewritten copy. A rule that needs module-level statements besides its rewrite asks
    for them with :meth:`add_statements`.
    """

    def __init__(self, module: cst.Module, qualname: str, function: cst.FunctionDef) -> None:
        self.module = module
        self.qualname = qualname
        self.function = function
        self._after_imports: list[cst.BaseStatement] = []
        self._after: dict[cst.CSTNode, list[cst.BaseStatement]] = {}

    @functools.cached_property
    def parents(self) -> Mapping[cst.CSTNode, cst.CSTNode]:
        """Each node of the module mapped to the node holding it."""
        return parent_map(self.module)

    @functools.cached_property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        """libcst's scope analysis of the module: the scope each node belongs to."""
        # A star import may bind any name, so the analysis cannot be trusted.
        if m.findall(self.module, m.ImportFrom(names=m.ImportStar())):
            raise _NoScopeAnalysis
        # No copy: the module holds each node once, as a parsed module does and as ``apply``
        # makes sure its output does.
        return MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(ScopeProvider)

    @property
    def scope(self) -> Scope:
        """The function's own (local) scope."""
        scope = self.scopes[self.function.body]
        assert scope is not None
        return scope

    def is_builtin(self, name: str, at: cst.CSTNode | None = None) -> bool:
        """Whether ``name``, read at ``at`` (default: the function body), is the builtin."""
        scope = self.scope if at is None else self.scopes.get(at)
        found = scope[name] if scope is not None else set()
        return bool(found) and all(isinstance(a, BuiltinAssignment) for a in found)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """The nodes holding ``node``, innermost first, up to and excluding the target function
        (for a node outside it, up to the module)."""
        parent = self.parents.get(node)
        while parent is not None and parent is not self.function:
            yield parent
            parent = self.parents.get(parent)

    def in_nested_scope(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` sits inside a def, lambda or class nested in the target."""
        return any(isinstance(a, NESTED_SCOPES) for a in self.ancestors(node))

    def with_function(self, function: cst.FunctionDef) -> RuleContext:
        """The context of a partial rewrite: the module with the target swapped for ``function``.
        Statements added through either context go to the same lists."""
        module = replace_function(self.module, self.qualname, function)
        context = RuleContext(module, self.qualname, function)
        context._after_imports, context._after = self._after_imports, self._after
        return context

    def add_statements(
        self, statements: Sequence[cst.BaseStatement], after: cst.BaseStatement | None = None
    ) -> None:
        """Have the rewrite add module-level ``statements`` right after ``after`` (a statement of
        the module's top level), or by default after the imports that open the file."""
        if after is None:
            self._after_imports.extend(statements)
        else:
            self._after.setdefault(after, []).extend(statements)

    def rewritten_module(self, function: cst.FunctionDef) -> cst.Module:
        """The module with the target swapped for ``function`` and the statements added."""
        module = replace_function(self.module, self.qualname, function)
        if self._after:
            body: list[cst.BaseStatement] = []
            for statement in module.body:
                body.extend([statement, *self._after.get(statement, ())])
            module = module.with_changes(body=body)
        if self._after_imports:
            module = insert_after_imports(module, self._after_imports)
        return module


class FunctionRule:
    """The base of every rule: it rewrites the target function, and may add imports and
    module-level statements.

    Subclasses implement :meth:`rewrite`, may implement :meth:`candidate`, and list the imports
    their rewrite needs. A rule whose rewrite only pays off on loops of many items declares
    ``min_items``: its candidates are dropped when no recorded call of the target had an
    argument that large (``agent.providers.base.Need``).
    """

    name: str = ""
    summary: str = ""
    strategy: str = "builtins"
    imports: Sequence[tuple[str, str | None]] = ()
    min_items: int = 0

    def candidate(self, function: cst.FunctionDef) -> bool:
        """A cheap syntactic test: ``False`` means the rule does not fire, with no more work."""
        return True

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        """The new target function, or ``None`` when the rule does not fire."""
        raise NotImplementedError

    def apply(self, module: cst.Module, qualname: str) -> cst.Module | None:
        function = find_function(module, qualname)
        if function is None or not self.candidate(function):
            return None
        ctx = RuleContext(module, qualname, function)
        try:
            new_function = self.rewrite(ctx)
        except _NoScopeAnalysis:  # raised by ``ctx.scopes``
            return None
        if new_function is None or new_function.deep_equals(function):
            return None
        imports = [Import(source, name) for source, name in self.imports]
        new_module = add_imports(ctx.rewritten_module(new_function), imports)
        # A rewrite may put one node object in several places (a constant's name at each use).
        # A copy has each node once, as a parsed module does, which the analyses of the next
        # rule to run on it rely on.
        return new_module.deep_clone()

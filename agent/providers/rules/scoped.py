"""A base for rules whose safety argument needs more than the target function's own text.

``FunctionRule.rewrite`` sees only the function. Some rules must also know what a name refers
to (a builtin, a module-level import, a local bound once), or where a node sits in the tree.
:class:`ScopedRule` runs libcst's scope and parent analyses over the whole module and hands the
rule a :class:`Target` holding both; the rewrite itself still touches only the target function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import (
    BuiltinAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    Scope,
    ScopeProvider,
)

from agent.providers.rules.base import add_imports, find_function, names_in, replace_function

# Builtins that read or write locals by name, which no static analysis can follow.
_DYNAMIC_SCOPE = frozenset({"locals", "vars", "eval", "exec"})

# Nodes that open a scope whose code runs later or elsewhere (unlike a comprehension's).
NESTED_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


@dataclass(frozen=True)
class Target:
    """The function to rewrite, with the module around it and the analyses of that module."""

    module: cst.Module
    function: cst.FunctionDef
    scopes: Mapping[cst.CSTNode, Scope | None]
    parents: Mapping[cst.CSTNode, cst.CSTNode]

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
        """The nodes above ``node``, innermost first, up to and excluding the target function."""
        parent = self.parents.get(node)
        while parent is not None and parent is not self.function:
            yield parent
            parent = self.parents.get(parent)

    def in_nested_scope(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` sits inside a def, lambda or class nested in the target."""
        return any(isinstance(a, NESTED_SCOPES) for a in self.ancestors(node))


def occurrences(node: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every ``Name`` spelled ``name`` under ``node``, except attribute names (``obj.name``)."""
    found: list[cst.Name] = []

    class Collector(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Name(self, n: cst.Name) -> None:
            if n.value == name:
                found.append(n)

    node.visit(Collector())
    return found


def uses_dynamic_scope(node: cst.CSTNode) -> bool:
    """Whether ``node`` mentions ``locals``/``vars``/``eval``/``exec`` (conservatively: at all)."""
    return bool(names_in(node) & _DYNAMIC_SCOPE)


def is_zero(node: cst.BaseExpression) -> bool:
    return m.matches(node, m.Integer("0"))


class ScopedRule:
    """Like :class:`~agent.providers.rules.base.FunctionRule`, but ``rewrite`` gets a
    :class:`Target`. Nodes in the target belong to the analysed copy of the module, so rules can
    look them up in ``target.scopes`` and ``target.parents``.
    """

    name: str = ""
    summary: str = ""
    imports: Sequence[tuple[str, str | None]] = ()

    def candidate(self, function: cst.FunctionDef) -> bool:
        """A cheap syntactic test: ``False`` skips the (slower) analyses for ``function``."""
        return True

    def rewrite(self, target: Target) -> cst.FunctionDef | None:
        raise NotImplementedError

    def apply(self, module: cst.Module, qualname: str) -> cst.Module | None:
        function = find_function(module, qualname)
        if function is None or not self.candidate(function):
            return None
        # A star import may bind any name, so the scope analysis cannot be trusted.
        if m.findall(module, m.ImportFrom(names=m.ImportStar())):
            return None
        wrapper = MetadataWrapper(module)
        module = wrapper.module
        function = find_function(module, qualname)
        assert function is not None
        target = Target(
            module, function, wrapper.resolve(ScopeProvider), wrapper.resolve(ParentNodeProvider)
        )
        new_function = self.rewrite(target)
        if new_function is None or new_function.deep_equals(function):
            return None
        return add_imports(replace_function(module, qualname, new_function), self.imports)

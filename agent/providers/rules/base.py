"""What a rule is, and the small libcst helpers that rules share.

A rule is a codemod for one well-known performance anti-pattern. It looks only at the target
function, and returns a rewritten module when (and only when) it can show the rewrite keeps
behaviour; otherwise ``None``. The verifier checks every candidate anyway, so a rule errs on
the side of not firing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor


class Rule(Protocol):
    name: str
    summary: str

    def apply(self, module: cst.Module, qualname: str) -> cst.Module | None:
        """Rewrite the function ``qualname`` in ``module``; ``None`` when the rule does not fire."""
        ...


class FunctionRule:
    """Base for rules that rewrite the body of the target function only.

    Subclasses implement :meth:`rewrite` and list the imports their rewrite needs.
    """

    name: str = ""
    summary: str = ""
    imports: Sequence[tuple[str, str | None]] = ()

    def rewrite(self, function: cst.FunctionDef) -> cst.FunctionDef | None:
        raise NotImplementedError

    def apply(self, module: cst.Module, qualname: str) -> cst.Module | None:
        function = find_function(module, qualname)
        if function is None:
            return None
        new_function = self.rewrite(function)
        if new_function is None or new_function.deep_equals(function):
            return None
        return add_imports(replace_function(module, qualname, new_function), self.imports)


def _scopes(
    body: Sequence[cst.CSTNode],
) -> Iterable[tuple[str, cst.FunctionDef | cst.ClassDef]]:
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement.name.value, statement


def find_function(module: cst.Module, qualname: str) -> cst.FunctionDef | None:
    """The definition of ``qualname`` (``func``, ``Class.method``, ``Outer.Inner.method``)."""
    body: Sequence[cst.CSTNode] = module.body
    node: cst.CSTNode | None = None
    for part in qualname.split("."):
        node = dict(_scopes(body)).get(part)
        if node is None:
            return None
        inner = node.body
        body = inner.body if isinstance(inner, cst.IndentedBlock) else []
    return node if isinstance(node, cst.FunctionDef) else None


def replace_function(
    module: cst.Module, qualname: str, new_function: cst.FunctionDef
) -> cst.Module:
    """``module`` with the definition of ``qualname`` swapped for ``new_function``."""
    parts = qualname.split(".")

    def swap(body: Sequence[cst.BaseStatement], depth: int) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        for statement in body:
            if (
                isinstance(statement, (cst.FunctionDef, cst.ClassDef))
                and statement.name.value == parts[depth]
            ):
                if depth == len(parts) - 1:
                    statement = new_function
                elif isinstance(statement.body, cst.IndentedBlock):
                    block = statement.body.with_changes(body=swap(statement.body.body, depth + 1))
                    statement = statement.with_changes(body=block)
            out.append(statement)
        return out

    return module.with_changes(body=swap(module.body, 0))


def add_imports(
    module: cst.Module, imports: Iterable[tuple[str, str | None]]
) -> cst.Module:
    """Add ``import module`` (name ``None``) or ``from module import name`` where missing."""
    imports = list(imports)
    if not imports:
        return module
    context = CodemodContext()
    for mod, name in imports:
        AddImportsVisitor.add_needed_import(context, mod, name)
    return AddImportsVisitor(context).transform_module(module)


def insert_after_imports(module: cst.Module, statements: Sequence[cst.BaseStatement]) -> cst.Module:
    """Add module-level ``statements`` after the last top-of-file import (or docstring)."""
    body = list(module.body)
    index = 0
    for i, statement in enumerate(body):
        if m.matches(
            statement,
            m.SimpleStatementLine(body=[m.OneOf(m.Import(), m.ImportFrom())])
            | m.SimpleStatementLine(body=[m.Expr(m.SimpleString())]),
        ):
            index = i + 1
        elif index or i > 0:
            break
    return module.with_changes(body=[*body[:index], *statements, *body[index:]])


def module_names(module: cst.Module) -> set[str]:
    """Every identifier used anywhere in ``module``: new names must avoid these."""
    return {node.value for node in m.findall(module, m.Name())}  # type: ignore[union-attr]


def fresh_name(taken: set[str], stem: str) -> str:
    """``stem`` or ``stem_2``, ``stem_3``…, whichever is not in ``taken`` (and reserve it)."""
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}"
    taken.add(name)
    return name


def names_in(node: cst.CSTNode) -> set[str]:
    """Identifiers read or written anywhere under ``node``."""
    return {n.value for n in m.findall(node, m.Name())}  # type: ignore[union-attr]


def has_nested_scope(node: cst.CSTNode) -> bool:
    """Whether ``node`` holds a def, class or lambda (whose name binding rules differ)."""
    return bool(m.findall(node, m.FunctionDef() | m.ClassDef() | m.Lambda()))


def loops_in(node: cst.CSTNode) -> list[cst.For | cst.While]:
    """The ``for`` and ``while`` loops under ``node``, nested functions excluded."""
    found: list[cst.For | cst.While] = []

    class Collector(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is node

        def visit_ClassDef(self, n: cst.ClassDef) -> bool:
            return False

        def visit_For(self, n: cst.For) -> None:
            found.append(n)

        def visit_While(self, n: cst.While) -> None:
            found.append(n)

    node.visit(Collector())
    return found

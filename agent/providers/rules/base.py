"""What a rule is, and the small libcst helpers that rules share.

A rule is a codemod for one well-known performance anti-pattern. It looks only at the target
function, and returns a rewritten module when (and only when) it can show the rewrite keeps
behaviour; otherwise ``None``. The verifier checks every candidate anyway, so a rule errs on
the side of not firing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
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
    return names_in(module)


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
    return {n.value for n in m.findall(node, m.Name()) if isinstance(n, cst.Name)}


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


# Nodes whose body runs once per item: membership tests or regex calls under one of these
# repeat. (A comprehension is a loop too, wherever it stands.)
LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

# Nodes that open a scope whose code may run at another time than where it stands.
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node under ``root`` mapped to the node holding it (libcst nodes hash by identity)."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}

    class Collector(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            for child in node.children:
                parents[child] = node
            return True

    root.visit(Collector())
    return parents


def ancestors(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The nodes holding ``node``, innermost first, up to the root of ``parents``."""
    while node in parents:
        node = parents[node]
        yield node


def in_nested_scope(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> bool:
    """Whether ``node`` sits in a def, class or lambda inside the root of ``parents``."""
    # The root itself (the target function) has no parent, so it does not count.
    return any(isinstance(a, NESTED_SCOPES) and a in parents for a in ancestors(node, parents))


def target_names(target: cst.BaseExpression) -> set[str]:
    """The names an assignment target binds (``a``, ``a, (b, *c)``; none for ``a.x``, ``a[i]``)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {name for element in target.elements for name in target_names(element.value)}
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


def bound_names(node: cst.CSTNode) -> set[str]:
    """Every name that code under ``node`` may bind, nested scopes included.

    Over-approximates on purpose (a parameter of an inner function counts), so that "not in
    ``bound_names``" safely means "never rebound". A star import adds ``"*"``.
    """
    names: set[str] = set()

    class Collector(cst.CSTVisitor):
        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            names.update(target_names(n.target))

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            names.update(target_names(n.target))

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            names.update(target_names(n.target))

        def visit_For(self, n: cst.For) -> None:
            names.update(target_names(n.target))

        def visit_CompFor(self, n: cst.CompFor) -> None:
            names.update(target_names(n.target))

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            names.update(target_names(n.target))

        def visit_Del(self, n: cst.Del) -> None:
            names.update(target_names(n.target))

        def visit_AsName(self, n: cst.AsName) -> None:  # import/with/except ... as
            names.update(target_names(n.name))

        def visit_ImportAlias(self, n: cst.ImportAlias) -> None:
            if n.asname is None:  # ``import a.b`` binds ``a``
                head: cst.BaseExpression = n.name
                while isinstance(head, cst.Attribute):
                    head = head.value
                names.update(target_names(head))

        def visit_ImportStar(self, n: cst.ImportStar) -> None:
            names.add("*")

        def visit_FunctionDef(self, n: cst.FunctionDef) -> None:
            names.add(n.name.value)

        def visit_ClassDef(self, n: cst.ClassDef) -> None:
            names.add(n.name.value)

        def visit_Param(self, n: cst.Param) -> None:
            names.add(n.name.value)

        def visit_NameItem(self, n: cst.NameItem) -> None:  # global / nonlocal
            names.add(n.name.value)

        def visit_MatchAs(self, n: cst.MatchAs) -> None:
            if n.name is not None:
                names.add(n.name.value)

        def visit_MatchStar(self, n: cst.MatchStar) -> None:
            if n.name is not None:
                names.add(n.name.value)

        def visit_MatchMapping(self, n: cst.MatchMapping) -> None:
            if n.rest is not None:
                names.add(n.rest.value)

    node.visit(Collector())
    return names


def variable_uses(node: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every ``Name`` spelled ``name`` under ``node`` that denotes a variable: attribute names
    (``obj.name``) and keyword names (``f(name=1)``) are left out."""
    found: list[cst.Name] = []

    class Collector(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

        def visit_Name(self, n: cst.Name) -> None:
            if n.value == name:
                found.append(n)

    node.visit(Collector())
    return found


def visible_bindings(module: cst.Module, function: cst.FunctionDef) -> set[str]:
    """Names that may be bound where ``function`` looks them up: at the module's top level
    (directly, or through ``global`` anywhere) or in ``function`` itself. A name read in
    ``function`` and not in this set is a builtin. Over-approximates; ``"*"`` for a star import.
    """
    names: set[str] = set()
    for node in m.findall(module, m.Global()):
        assert isinstance(node, cst.Global)
        names.update(item.name.value for item in node.names)
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)  # what is bound inside has its own scope
        else:
            names |= bound_names(statement)
    return names | bound_names(function)

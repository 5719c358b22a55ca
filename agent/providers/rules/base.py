"""What a rule is, the one base class rules are written with, and the libcst helpers they share.

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import BuiltinAssignment, MetadataWrapper, Scope, ScopeProvider


class Rule(Protocol):
    name: str
    summary: str
    strategy: str  # the optimization strategy it applies (prompts/strategies.toml)

    def apply(self, module: cst.Module, qualname: str) -> cst.Module | None:
        """Rewrite the function ``qualname`` in ``module``; ``None`` when the rule does not fire."""
        ...


# Nodes whose body runs once per item: membership tests or regex calls under one of these
# repeat. (A comprehension is a loop too, wherever it stands.)
LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

# Nodes that open a scope whose code may run at another time than where it stands (unlike a
# comprehension's).
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)

# Builtins that read or write locals by name, which no static analysis can follow: a rule that
# adds, drops or changes a local must not fire where one of these may run.
DYNAMIC_SCOPE = frozenset({"locals", "vars", "dir", "eval", "exec"})


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
        new_module = add_imports(ctx.rewritten_module(new_function), self.imports)
        # A rewrite may put one node object in several places (a constant's name at each use).
        # A copy has each node once, as a parsed module does, which the analyses of the next
        # rule to run on it rely on.
        return new_module.deep_clone()


def _scopes(
    body: Sequence[cst.CSTNode],
) -> Iterable[tuple[str, cst.FunctionDef | cst.ClassDef]]:
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement.name.value, statement


def find_function(module: cst.Module, qualname: str) -> cst.FunctionDef | None:
    """The definition of ``qualname`` (``func``, ``Class.method``, ``Outer.Inner.method``).

    ``None`` also when a name on the way is defined more than once (a property's getter and
    setter, say): which one is meant cannot be told, and replacing one must not touch both.
    """
    body: Sequence[cst.CSTNode] = module.body
    node: cst.CSTNode | None = None
    for part in qualname.split("."):
        same = [n for name, n in _scopes(body) if name == part]
        if len(same) != 1:
            return None
        node = same[0]
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


def add_imports(module: cst.Module, imports: Iterable[tuple[str, str | None]]) -> cst.Module:
    """Add ``import module`` (name ``None``) or ``from module import name`` where missing."""
    imports = list(imports)
    if not imports:
        return module
    context = CodemodContext()
    for mod, name in imports:
        AddImportsVisitor.add_needed_import(context, mod, name)
    return AddImportsVisitor(context).transform_module(module)


_DOCSTRING = m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])
_IMPORTS = m.SimpleStatementLine([m.AtLeastN(m.Import() | m.ImportFrom(), n=1)])


def file_header(module: cst.Module) -> list[cst.BaseStatement]:
    """The statements that open the file: a docstring, then the imports before anything else
    (``from __future__`` imports, which must come first, among them)."""
    body = module.body
    end = 1 if body and m.matches(body[0], _DOCSTRING) else 0
    while end < len(body) and m.matches(body[end], _IMPORTS):
        end += 1
    return list(body[:end])


def insert_after_imports(module: cst.Module, statements: Sequence[cst.BaseStatement]) -> cst.Module:
    """Add module-level ``statements`` right after the :func:`file_header`."""
    end = len(file_header(module))
    return module.with_changes(body=[*module.body[:end], *statements, *module.body[end:]])


def fresh_name(taken: set[str], stem: str) -> str:
    """``stem`` or ``stem_2``, ``stem_3``…, whichever is not in ``taken`` (and reserve it)."""
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}"
    taken.add(name)
    return name


def names_in(node: cst.CSTNode) -> set[str]:
    """Identifiers read or written anywhere under ``node``: new names must avoid these."""
    return {n.value for n in m.findall(node, m.Name()) if isinstance(n, cst.Name)}


def uses_dynamic_scope(node: cst.CSTNode) -> bool:
    """Whether ``node`` mentions ``locals``, ``vars``, ``dir``, ``eval`` or ``exec``,
    conservatively: called or not, builtin or not, attributes too (``builtins.eval``); only a
    keyword argument's name (``mkdtemp(dir=d)``) does not count."""
    found: list[cst.Name] = []

    class Finder(cst.CSTVisitor):
        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

        def visit_Name(self, n: cst.Name) -> None:
            if n.value in DYNAMIC_SCOPE:
                found.append(n)

    node.visit(Finder())
    return bool(found)


def variable_uses(node: cst.CSTNode, name: str | None = None) -> list[cst.Name]:
    """Every ``Name`` under ``node`` that denotes a variable (spelled ``name``, when given):
    attribute names (``obj.name``) and keyword names (``f(name=1)``) are left out."""
    found: list[cst.Name] = []

    class Collector(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> bool:
            n.value.visit(self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

        def visit_Name(self, n: cst.Name) -> None:
            if name is None or n.value == name:
                found.append(n)

    node.visit(Collector())
    return found


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


def parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node under ``root`` mapped to the node holding it (libcst nodes hash by identity)."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = []

    class Collector(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if stack:
                parents[node] = stack[-1]
            stack.append(node)
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            stack.pop()

    root.visit(Collector())
    return parents


_EMPTY_LIST = m.List(elements=[])
_EMPTY_LIST_BINDING = m.SimpleStatementLine(
    [m.Assign([m.AssignTarget(m.Name())], _EMPTY_LIST) | m.AnnAssign(m.Name(), value=_EMPTY_LIST)]
)


def empty_list_binding(statement: cst.BaseStatement) -> str | None:
    """``name`` when ``statement`` is exactly ``name = []`` or ``name: T = []``."""
    if not m.matches(statement, _EMPTY_LIST_BINDING):
        return None
    assert isinstance(statement, cst.SimpleStatementLine)
    small = statement.body[0]
    assert isinstance(small, (cst.Assign, cst.AnnAssign))
    name = small.targets[0].target if isinstance(small, cst.Assign) else small.target
    assert isinstance(name, cst.Name)
    return name.value


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

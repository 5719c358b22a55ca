"""The bottom layer: general helpers over Python source with libcst (and ``ast``).

Rules, reply patching and the scope check build on these; this module imports nothing of
``agent``, so any layer may use it. What is specific to one of them stays there: the rules
framework in ``providers/rules/base.py``, reading replies in ``providers/patching.py``, what
a candidate may change in ``verify/scope.py``. (Over 400 lines: one home for these helpers is
the point; each is small and stands alone.)
"""

from __future__ import annotations

import ast
import difflib
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node

# Nodes whose body runs once per item. (A comprehension is a loop too, wherever it stands.)
LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

# Nodes that open a scope whose code may run at another time than where it stands (unlike a
# comprehension's).
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)

# Builtins that read or write locals by name, which no static analysis can follow: a rewrite
# that adds, drops or changes a local must not happen where one of these may run.
DYNAMIC_SCOPE = frozenset({"locals", "vars", "dir", "eval", "exec"})

Definition = cst.FunctionDef | cst.ClassDef


def normalized(source: str) -> str:
    """A canonical form of ``source``, equal for code that differs only in formatting and
    comments; the raw text when it does not parse."""
    try:
        return ast.unparse(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError):  # ValueError: a null byte
        return source


# --- definitions, found by qualified name ---------------------------------------------------


def is_private(name: str) -> bool:
    """``_name`` but not ``__name__``: private by convention, no special meaning to Python."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def definition_name(statement: cst.CSTNode) -> str | None:
    """The name a ``def`` or ``class`` statement defines; ``None`` for any other statement."""
    return statement.name.value if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) else None


def definitions(body: Sequence[cst.CSTNode]) -> Iterator[tuple[str, Definition]]:
    """The ``def`` and ``class`` statements of ``body``, with their names, in order."""
    for statement in body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            yield statement.name.value, statement


def class_body(node: cst.ClassDef) -> Sequence[cst.BaseStatement]:
    """The statements of a class (none for ``class C: pass`` on one line)."""
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else ()


def _path(module: cst.Module, qualname: str) -> tuple[Definition | None, int]:
    """The definition ``qualname`` names, and how many definitions the last name found on the
    way has in its block (0: missing, more than 1: cannot tell which)."""
    body: Sequence[cst.CSTNode] = module.body
    node: Definition | None = None
    for part in qualname.split("."):
        same = [n for name, n in definitions(body) if name == part]
        if len(same) != 1:
            return None, len(same)
        node = same[0]
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    return node, 1


def find_function(module: cst.Module, qualname: str) -> cst.FunctionDef | None:
    """The definition of ``qualname`` (``func``, ``Class.method``, ``Outer.Inner.method``).

    ``None`` also when a name on the way is defined more than once (a property's getter and
    setter, say): which one is meant cannot be told, and replacing one must not touch both.
    """
    node, _ = _path(module, qualname)
    return node if isinstance(node, cst.FunctionDef) else None


def find_class(module: cst.Module, qualname: str) -> cst.ClassDef | None:
    """The class ``qualname`` names; ``None`` also when a name on the way is defined more than
    once (as :func:`find_function`)."""
    node, _ = _path(module, qualname)
    return node if isinstance(node, cst.ClassDef) else None


def is_ambiguous(module: cst.Module, qualname: str) -> bool:
    """Whether a name on the way to ``qualname`` is defined more than once."""
    return _path(module, qualname)[1] > 1


def change_definition(
    module: cst.Module, qualname: str, change: Callable[[Definition], Definition]
) -> cst.Module:
    """``module`` with the definition of ``qualname`` passed through ``change``."""
    parts = qualname.split(".")

    def swap(body: Sequence[cst.BaseStatement], depth: int) -> list[cst.BaseStatement]:
        out: list[cst.BaseStatement] = []
        for statement in body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and (
                statement.name.value == parts[depth]
            ):
                if depth == len(parts) - 1:
                    statement = change(statement)
                elif isinstance(statement.body, cst.IndentedBlock):
                    block = statement.body.with_changes(body=swap(statement.body.body, depth + 1))
                    statement = statement.with_changes(body=block)
            out.append(statement)
        return out

    return module.with_changes(body=swap(module.body, 0))


def replace_function(
    module: cst.Module, qualname: str, new_function: cst.FunctionDef
) -> cst.Module:
    """``module`` with the definition of ``qualname`` swapped for ``new_function``."""
    return change_definition(module, qualname, lambda _: new_function)


def changed_definitions(original: cst.Module, new: cst.Module) -> list[str]:
    """The qualified names of what ``new`` adds or changes against ``original``, in its file
    order, then what it removes, in the original's: module-level functions, classes and
    constants, and one level into each class its members (methods, class attributes).

    A class is named itself when what is left of it without its members changes (its
    statement, its docstring). Layout and comments are no change.
    """
    before, after = _parts(original.body, ""), _parts(new.body, "")
    changed = [name for name, code in after.items() if before.get(name) != code]
    return changed + [name for name in before if name not in after]


def definition_diffs(path: str, original: str, new: str, names: Sequence[str]) -> dict[str, str]:
    """Each of ``names`` (qualified, as :func:`changed_definitions` gives them) as a unified
    diff of its own code, ``a/PATH::NAME`` against ``b/PATH::NAME``: a change to several
    definitions read one definition at a time."""
    before, after = _sources(cst.parse_module(original)), _sources(cst.parse_module(new))
    diffs = {}
    for name in names:
        old, now = before.get(name, ""), after.get(name, "")
        lines = difflib.unified_diff(
            old.splitlines(keepends=True),
            now.splitlines(keepends=True),
            f"a/{path}::{name}" if old else "/dev/null",
            f"b/{path}::{name}" if now else "/dev/null",
        )
        diffs[name] = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return diffs


def _sources(module: cst.Module) -> dict[str, str]:
    """The code of each definition or constant, by qualified name, one level into classes
    (a class by itself: its statement and whatever is not a member)."""
    sources: dict[str, str] = {}
    for statement in module.body:
        names = _member_names(statement)
        if isinstance(statement, cst.ClassDef):
            name = statement.name.value
            for member in class_body(statement):
                for member_name in _member_names(member):
                    code = textwrap.dedent(module.code_for_node(member).strip("\n"))
                    sources.setdefault(f"{name}.{member_name}", "")
                    sources[f"{name}.{member_name}"] += code.strip() + "\n"
            names = []
        for name in names:
            sources[name] = sources.get(name, "") + module.code_for_node(statement).strip() + "\n"
    return sources


def _parts(body: Sequence[cst.BaseStatement], prefix: str) -> dict[str, list[str]]:
    """Each definition or constant of ``body`` by qualified name, as normalized code (a list:
    a name may be defined more than once, a property's getter and setter)."""
    parts: dict[str, list[str]] = {}
    for statement in body:
        if isinstance(statement, cst.ClassDef) and not prefix:
            members = [s for s in class_body(statement) if _member_names(s)]
            rest = [s for s in class_body(statement) if not _member_names(s)]
            shell = statement.with_changes(body=cst.IndentedBlock(rest or [_PASS]))
            parts.setdefault(statement.name.value, []).append(_standalone(shell))
            for name, codes in _parts(members, statement.name.value + ".").items():
                parts.setdefault(name, []).extend(codes)
            continue
        for name in _member_names(statement):
            parts.setdefault(prefix + name, []).append(_standalone(statement))
    return parts


_PASS = cst.SimpleStatementLine([cst.Pass()])


def _member_names(statement: cst.BaseStatement) -> list[str]:
    """The names a definition or a constant (``NAME = value``) binds; none for the rest."""
    name = definition_name(statement)
    if name is not None:
        return [name]
    if isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Assign, cst.AnnAssign)) for s in statement.body
    ):
        return sorted(bound_names(statement))
    return []


def _standalone(statement: cst.BaseStatement) -> str:
    """``statement`` as code at column 0 (libcst indentation is relative), normalized."""
    return normalized(cst.Module([]).code_for_node(statement.with_changes(leading_lines=())))


def is_filler(statement: cst.BaseStatement) -> bool:
    """``pass``, ``...`` or a docstring: a statement that defines nothing."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, cst.Pass)
        or (isinstance(s, cst.Expr) and isinstance(s.value, (cst.Ellipsis, cst.SimpleString)))
        for s in statement.body
    )


# --- imports and the head of a file ---------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One name an import line binds: ``import module [as asname]`` when ``obj`` is ``None``,
    else ``from <relative dots>module import obj [as asname]`` (``obj`` ``"*"``: a star)."""

    module: str
    obj: str | None = None
    asname: str | None = None
    relative: int = 0

    @property
    def binding(self) -> tuple[str, str]:
        """The name it binds and to what: two imports with one binding are the same import."""
        if self.obj is not None:
            return self.asname or self.obj, f"{'.' * self.relative}{self.module}:{self.obj}"
        if self.asname:
            return self.asname, self.module
        head = self.module.split(".")[0]  # ``import os.path`` binds ``os``, as ``import os`` does
        return head, head


def imports_of(statement: cst.BaseStatement) -> list[Import] | None:
    """The imports of an import line; ``None`` for any other statement."""
    if not isinstance(statement, cst.SimpleStatementLine) or not all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
    ):
        return None
    found: list[Import] = []
    for small in statement.body:
        if isinstance(small, cst.Import):
            found += [Import(a.evaluated_name, None, a.evaluated_alias) for a in small.names]
        elif isinstance(small, cst.ImportFrom):
            name = (get_full_name_for_node(small.module) if small.module else None) or ""
            relative = len(small.relative)
            if isinstance(small.names, cst.ImportStar):
                found.append(Import(name, "*", None, relative))
            else:
                found += [
                    Import(name, a.evaluated_name, a.evaluated_alias, relative) for a in small.names
                ]
    return found


def add_imports(module: cst.Module, imports: Iterable[Import]) -> cst.Module:
    """``module`` with ``imports`` where missing (those already there are skipped)."""
    imports = list(imports)
    if not imports:
        return module
    context = CodemodContext()
    for i in imports:
        AddImportsVisitor.add_needed_import(context, i.module, i.obj, i.asname, i.relative)
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


# --- names ----------------------------------------------------------------------------------


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


def binds_only_names(target: cst.BaseExpression) -> bool:
    """Whether an assignment target is names only (``a``, ``a, (b, *c)``): no ``a.x``, no
    ``a[i]``, which would change an object that exists already."""
    if isinstance(target, cst.Name):
        return True
    if isinstance(target, (cst.Tuple, cst.List)):
        return all(binds_only_names(element.value) for element in target.elements)
    return isinstance(target, cst.StarredElement) and binds_only_names(target.value)


# The nodes whose ``target`` binds names (``a = ``, ``for a in``, ``(a := ...)``, ``del a``).
_TARGET_HOLDERS = (
    cst.AssignTarget,
    cst.AnnAssign,
    cst.AugAssign,
    cst.For,
    cst.CompFor,
    cst.NamedExpr,
    cst.Del,
)


def bound_names(node: cst.CSTNode) -> set[str]:
    """Every name that code under ``node`` may bind, nested scopes included.

    Over-approximates on purpose (a parameter of an inner function counts), so that "not in
    ``bound_names``" safely means "never rebound". A star import adds ``"*"``.
    """
    names: set[str] = set()

    class Collector(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            if isinstance(n, _TARGET_HOLDERS):
                names.update(target_names(n.target))
            return super().on_visit(n)

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


def names_bound_by(statement: cst.BaseStatement) -> set[str]:
    """The names a statement binds in the block it stands in: a definition its own name (what
    is bound inside has its own scope), any other statement its :func:`bound_names`."""
    name = definition_name(statement)
    return {name} if name is not None else bound_names(statement)


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
        names |= names_bound_by(statement)
    return names | bound_names(function)


class UnwrapCalls(cst.CSTTransformer):
    """Each of ``calls`` replaced by the expression ``inner`` picks from it (``list(range(n))``
    by ``range(n)``, ``f.readlines()`` by ``f``), the call's parentheses kept around it."""

    def __init__(
        self, calls: set[cst.Call], inner: Callable[[cst.Call], cst.BaseExpression]
    ) -> None:
        super().__init__()
        self.calls = calls
        self.inner = inner

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if original not in self.calls:
            return updated
        inner = self.inner(updated)
        return inner.with_changes(
            lpar=[*updated.lpar, *inner.lpar], rpar=[*inner.rpar, *updated.rpar]
        )

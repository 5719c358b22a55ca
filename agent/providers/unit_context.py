"""What a prompt shows of a method's class when the candidate may change the class (the unit
scope, ``Scope.unit``): the class's outline, and the methods the target leans on in full.

The outline is the class statement, its class attributes, and each method's signature with
the first line of its docstring; in full come ``__init__`` (where an index or a cached form
would be built) and the methods the target calls on ``self``, in the order it first calls
them. Found with libcst on the target's file; ``agent.providers.prompting`` renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from agent.syntax import class_body, find_class, find_function, is_filler

MAX_METHODS = 6  # methods shown in full besides the target; the outline names the rest


@dataclass(frozen=True)
class Method:
    name: str
    source: str  # its full definition, at column 0
    called: bool  # the target calls it on ``self`` (else it is ``__init__``, shown anyway)


@dataclass(frozen=True)
class ClassView:
    owner: str  # the class's qualified name
    outline: str
    methods: tuple[Method, ...]


def gather_class(file_source: str, qualname: str) -> ClassView | None:
    """The class around the method ``qualname``; ``None`` for a function, or when the file
    does not parse or the class cannot be told (defined twice)."""
    owner = qualname.rpartition(".")[0]
    if not owner:
        return None
    try:
        module = cst.parse_module(file_source)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    cls, target = find_class(module, owner), find_function(module, qualname)
    if cls is None or target is None:
        return None
    methods = _methods(cls)
    calls = self_calls(target)
    names = [n for n in dict.fromkeys(["__init__", *calls]) if n in methods]
    shown = [n for n in names if n != target.name.value][:MAX_METHODS]
    views = tuple(Method(n, _code(methods[n]), n in calls) for n in shown)
    return ClassView(owner, outline(cls), views)


def _methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    """The class's methods by name, the first definition of each (a property's getter)."""
    found: dict[str, cst.FunctionDef] = {}
    for statement in class_body(cls):
        if isinstance(statement, cst.FunctionDef):
            found.setdefault(statement.name.value, statement)
    return found


_SELF_CALL = m.Call(func=m.Attribute(value=m.Name("self"), attr=m.Name()))


def self_calls(function: cst.FunctionDef) -> list[str]:
    """The names of the methods ``function`` calls on ``self`` (``self.name(...)``), in the
    order of their first call."""
    names: list[str] = []
    for call in m.findall(function, _SELF_CALL):
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        names.append(call.func.attr.value)
    return list(dict.fromkeys(names))


def outline(cls: cst.ClassDef) -> str:
    """The class statement, the first line of its docstring, its class attributes as they
    are, and each method (or nested class) by its signature, decorators and the first line
    of its docstring, its body elided with ``...``."""
    body: list[cst.BaseStatement] = []
    for statement in class_body(cls):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            body.append(_abridged(statement))
        elif not is_filler(statement):
            body.append(statement.with_changes(leading_lines=()))
    shell = cls.with_changes(
        leading_lines=(), body=cst.IndentedBlock([*_docstring(cls), *body] or [_ELLIPSIS])
    )
    return _code(shell)


_ELLIPSIS = cst.SimpleStatementLine([cst.Expr(cst.Ellipsis())])


def _abridged(definition: cst.FunctionDef | cst.ClassDef) -> cst.FunctionDef | cst.ClassDef:
    body = [*_docstring(definition), _ELLIPSIS]
    return definition.with_changes(leading_lines=(), body=cst.IndentedBlock(body))


def _docstring(definition: cst.FunctionDef | cst.ClassDef) -> Sequence[cst.SimpleStatementLine]:
    """The first line of the definition's docstring, as a docstring of its own."""
    text = definition.get_docstring()
    if not text:
        return ()
    first = text.strip().splitlines()[0].replace('"""', "'''").rstrip("\\")
    return (cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{first}"""'))]),)


def _code(node: cst.CSTNode) -> str:
    """``node`` as code at column 0 (libcst indentation is relative)."""
    return cst.Module([]).code_for_node(node).strip("\n")

"""Where the definitions of a reply that edits a unit go: a method's class, its module's helpers.

With the unit scope on (``Scope.unit``), one fenced block of a reply may hold several
definitions besides the target: methods and class attributes of the target's class (inside the
class, or methods alone, dedented) and module-level helpers and constants. Each replaces its
namesake in the file, keeping the blank lines and comments above it; one without a namesake is
new, and goes where new ones go. A reply whose definitions cannot be matched one to one with
the file's is refused (:class:`Unplaceable`) rather than guessed at. What may change is not
decided here: ``providers/patching.py`` builds the whole file and the one scope rule
(``verify/scope.py``) judges it, all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from agent.syntax import (
    change_definition,
    class_body,
    definition_name,
    definitions,
    find_class,
    find_function,
    is_filler,
    is_private,
    names_bound_by,
    normalized,
)
from agent.verify.scope import is_constant

# A statement of a reply: every kind has the lines (blank, comments) that lead to it.
Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement

# What a statement defines: a definition's name, or the names a constant line binds.
Key = tuple[str, ...]


class Unplaceable(ValueError):
    """The reply's definitions cannot be matched with the file's; ``str(error)`` is the
    one-line reason."""


def key_of(statement: cst.BaseStatement) -> Key | None:
    """What ``statement`` defines, when it is a definition or a constant; else ``None``."""
    name = definition_name(statement)
    if name is not None:
        return (name,)
    return tuple(sorted(names_bound_by(statement))) if is_constant(statement) else None


def place_in_class(
    module: cst.Module, owner: str, statements: Sequence[Statement], after: str
) -> cst.Module:
    """``module`` with ``statements`` in the class ``owner``: each over its namesake, the
    new ones right after the member ``after`` (the target)."""

    def change(cls: cst.FunctionDef | cst.ClassDef) -> cst.FunctionDef | cst.ClassDef:
        assert isinstance(cls, cst.ClassDef) and isinstance(cls.body, cst.IndentedBlock)
        body, new = replace_namesakes(module, cls.body.body, statements, owner + ".")
        index = 1 + max(i for i, s in enumerate(body) if definition_name(s) == after)
        spaced = [_spaced(s) for s in new]
        block = cls.body.with_changes(body=[*body[:index], *spaced, *body[index:]])
        return cls.with_changes(body=block)

    return change_definition(module, owner, change)


def _spaced(statement: Statement) -> Statement:
    """A new member with one blank line above it (PEP 8 inside a class), its comments kept."""
    comments = [line for line in statement.leading_lines if line.comment is not None]
    return statement.with_changes(leading_lines=[cst.EmptyLine(indent=False), *comments])


def replace_namesakes(
    module: cst.Module,
    body: Sequence[cst.BaseStatement],
    statements: Sequence[Statement],
    owner: str,
) -> tuple[list[cst.BaseStatement], list[Statement]]:
    """``body`` (a block of ``module``) with each of ``statements`` over its namesake, and the
    statements that have none and are not already there as they are."""
    out = list(body)
    olds_by_key: dict[Key, list[int]] = {}
    for index, old in enumerate(body):
        key = key_of(old)
        if key is not None:
            olds_by_key.setdefault(key, []).append(index)
    news_by_key: dict[Key, list[Statement]] = {}
    for statement in statements:
        key = key_of(statement)
        if key is not None and key in olds_by_key:
            news_by_key.setdefault(key, []).append(statement)
    for key, news in news_by_key.items():
        olds = olds_by_key[key]
        if len(news) != len(olds):
            # A property's getter and setter share a name: only all of them, in order, say
            # which is which.
            raise Unplaceable(
                f"the reply defines {owner}{', '.join(key)} {_times(len(news))} where the file"
                f" has {len(olds)}; cannot tell which"
            )
        for index, new in zip(olds, news, strict=True):
            old = out[index]
            assert isinstance(old, Statement)  # every statement of a block is one of these
            if _same(module.code_for_node(old), cst.Module([]).code_for_node(new)):
                continue  # repeated as it is: the file keeps its own text
            if isinstance(old, cst.FunctionDef) and isinstance(new, cst.FunctionDef):
                new = _with_annotations_of(old, new)
            out[index] = new.with_changes(leading_lines=old.leading_lines)
    old_codes = {normalized(module.code_for_node(s)) for s in body}
    rest = [
        s
        for s in statements
        if (key_of(s) is None or key_of(s) not in olds_by_key)
        and normalized(cst.Module([]).code_for_node(s)) not in old_codes
    ]
    return out, rest


def _with_annotations_of(old: cst.FunctionDef, new: cst.FunctionDef) -> cst.FunctionDef:
    """``new`` with ``old``'s signature when the two differ only in their annotations.

    A public signature must stay as it is (``Scope.keeps_interface``), annotations included:
    ``typing.get_type_hints``, dataclasses and validators read them. A model copying a
    constructor often writes ``List`` for ``list`` or drops ``-> None``; the file's own
    annotations put back make the rest of its answer judgeable rather than refused whole.
    Anything more (a name, a default, a kind of parameter) is left for the scope to refuse.
    """
    if is_private(new.name.value) or _unannotated(old) != _unannotated(new):
        return new
    return new.with_changes(params=old.params, returns=old.returns)


def _unannotated(function: cst.FunctionDef) -> str:
    params = cst.ensure_type(function.params.visit(_DropAnnotations()), cst.Parameters)
    prefix = "async " if function.asynchronous else ""
    return normalized(f"{prefix}def f({cst.Module([]).code_for_node(params)}):\n    pass\n")


class _DropAnnotations(cst.CSTTransformer):
    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        return updated.with_changes(annotation=None)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _same(old: str, new: str) -> bool:
    return normalized(old.strip()) == normalized(new.strip())


def unit_members(
    reply: cst.Module,
    classes: Sequence[cst.ClassDef],
    module: cst.Module,
    parts: Sequence[str],
    helpers: Sequence[Statement],
) -> tuple[list[tuple[str, str, list[Statement]]], list[Statement]]:
    """What the reply gives for the classes around the target (``classes``, the ones it wraps
    the target in), as ``(class, member on the way to the target, statements)``: all of it,
    since :func:`place_in_class` keeps what is unchanged, and the methods given alone among
    ``helpers`` (the reply's other module-level statements); and what is left of those."""
    found: list[tuple[str, str, list[Statement]]] = []
    for depth, cls in enumerate(classes, len(parts) - len(classes)):
        statements = [
            s
            for s in class_body(cls)
            if isinstance(s, Statement) and definition_name(s) != parts[depth] and not is_filler(s)
        ]
        found.append((".".join(parts[:depth]), parts[depth], statements))
    if len(parts) == 1:
        return found, list(helpers)
    owner = ".".join(parts[:-1])
    dedented, rest = sort_dedented(helpers, module, owner)
    if found and found[-1][0] == owner:
        # Given both inside the class and alone: one list, so that a member given twice is
        # refused as ambiguous rather than the last one winning.
        found[-1][2].extend(dedented)
    elif dedented:
        found.append((owner, parts[-1], dedented))
    return found, rest


def sort_dedented(
    statements: Sequence[Statement], module: cst.Module, owner: str
) -> tuple[list[Statement], list[Statement]]:
    """The reply's module-level ``statements`` split into members of the class ``owner``
    (given alone, dedented: a ``def`` that takes ``self`` or ``cls`` or has a namesake in the
    class; or the class again, for its members) and module-level ones."""
    cls = find_class(module, owner)
    members_of_class = {name for name, _ in definitions(class_body(cls))} if cls else set()
    module_functions = {name for name, _ in definitions(module.body)}
    members: list[Statement] = []
    helpers: list[Statement] = []
    for statement in statements:
        name = definition_name(statement)
        if isinstance(statement, cst.ClassDef) and name == owner.rpartition(".")[2]:
            members += [
                s for s in class_body(statement) if isinstance(s, Statement) and not is_filler(s)
            ]
        elif isinstance(statement, cst.FunctionDef) and name in members_of_class:
            if name in module_functions:
                raise Unplaceable(
                    f"the reply's {name} could be {owner}.{name} or the module's {name};"
                    " cannot tell which"
                )
            members.append(statement)
        elif isinstance(statement, cst.FunctionDef) and takes_self(statement):
            members.append(statement)
        else:
            helpers.append(statement)
    return members, helpers


def takes_self(function: cst.FunctionDef) -> bool:
    """Whether a ``def``'s first parameter is ``self`` or ``cls``: a method given alone."""
    params = function.params.params
    return bool(params) and params[0].name.value in ("self", "cls")


def duplicated(reply: cst.Module, qualname: str) -> bool:
    """Whether the reply defines ``qualname`` (or, for a method given alone, its name) more
    than once, so that which one is meant cannot be told."""
    parts = qualname.split(".")
    return any(
        find_function(reply, ".".join(parts[skip:])) is None and _count(reply, parts[skip:]) > 1
        for skip in range(len(parts))
    )


def _count(reply: cst.Module, parts: list[str]) -> int:
    """How many definitions of ``parts[-1]`` the block that ``parts[:-1]`` names holds."""
    body: Sequence[cst.BaseStatement] = reply.body
    if len(parts) > 1:
        holder = find_class(reply, ".".join(parts[:-1]))
        body = class_body(holder) if holder is not None else ()
    return sum(1 for name, _ in definitions(body) if name == parts[-1])

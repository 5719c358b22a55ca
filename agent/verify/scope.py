"""The cheapest checks: the edit parses, and it changes only what it may change.

This is the one scope rule: reply patching (``providers/patching.py``) asks it of the file it
builds from a reply, and the verifier asks it of every candidate (``check_static``), so both
refuse the same edits with the same reason.

A candidate may rewrite its target and, at module level, add imports, helper definitions
(``def``/``class``) and constants (:func:`is_constant`), each binding only new names that
shadow no builtin. Everything else in the file stays as it was, in its order (imports are
compared by what they bind: adding one may merge it into an existing line), and no other file
changes: tests, benchmarks, conftest and configuration judge the candidate, so a candidate may
never touch them.

With ``Scope.unit`` (off unless a caller asks for it, until behaviour is checked on sequences
of calls) the scope is the target's unit: for a method, every existing member of its class
(methods, ``__init__``, class attributes, ``__slots__``) and new private members; for any
target, the module's private helpers (functions, classes) and constants. Public functions and
methods keep their signatures and decorators, and the class statement stays. (Over 400 lines:
the one scope rule reads best whole, the walker beside the decisions it asks.)
"""

from __future__ import annotations

import builtins
import difflib
import functools
import io
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import libcst as cst
import libcst.metadata
from libcst.metadata import CodeRange

from agent.domain import Candidate, Target
from agent.syntax import (
    Import,
    binds_only_names,
    class_body,
    definition_name,
    definitions,
    imports_of,
    is_private,
    names_bound_by,
    normalized,
)

_BUILTINS = frozenset(dir(builtins))


def check_static(
    candidate: Candidate, target: Target, original: str, *, unit: bool = False
) -> tuple[str, str] | None:
    """``(stage, reason)`` when the edit does not parse or is out of bounds, else ``None``;
    ``unit`` widens the bounds to the target's unit (:class:`Scope`)."""
    outside = sorted(set(candidate.files) - {target.ref.path})
    if outside:
        return "scope", f"edits files other than the target's: {', '.join(outside)}"
    new_source = candidate.files.get(target.ref.path, original)
    if new_source == original:
        return "scope", "changes nothing"
    problem = syntax_error(new_source)
    if problem is not None:
        return "parse", problem
    scope = Scope(target.ref.qualname, target.lineno, unit=unit)
    reason = scope.refusal(parsed(original), parsed(new_source))
    return None if reason is None else ("scope", reason)


@functools.lru_cache(maxsize=16)
def parsed(source: str) -> cst.Module:
    """The source's syntax tree, parsed once for every stage that reads it (trees are
    immutable, so they are shared safely)."""
    return cst.parse_module(source)


def syntax_error(source: str) -> str | None:
    """Why ``source`` does not parse, in one line; ``None`` when it does."""
    try:
        parsed(source)
    except cst.ParserSyntaxError as error:
        return f"syntax error: {str(error).splitlines()[0]} (line {error.raw_line})"
    return None


def is_constant(statement: cst.BaseStatement) -> bool:
    """A line of ``NAME = value`` (``A, B = value``, ``NAME: T = value``) assignments: it binds
    names and changes no object that exists already (no ``a.x =``, no ``a[i] =``)."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        (isinstance(s, cst.Assign) and all(binds_only_names(t.target) for t in s.targets))
        or (isinstance(s, cst.AnnAssign) and isinstance(s.target, cst.Name) and s.value is not None)
        for s in statement.body
    )


@dataclass(frozen=True)
class Scope:
    """What a candidate for the function ``target`` (a qualified name) may change in its file.

    :meth:`may_rewrite` and :meth:`may_add_in` are the two decisions; widening scope to a unit
    (``unit``: other definitions of the target's class or module) is a change to them, and to
    the two rules that narrow them, :meth:`keeps_interface` and :meth:`may_add`. ``line`` (the
    target's line in the original, when known) tells which of several definitions of one name
    is the target: a property's getter or its setter.
    """

    target: str
    line: int | None = None
    unit: bool = False

    def may_rewrite(self, qualname: str) -> bool:
        """Whether the definition ``qualname`` may change as a whole."""
        if qualname == self.target:
            return True
        if not self.unit or self.target.startswith(qualname + "."):
            # A class that holds the target is compared member by member, never as a whole.
            return False
        owner, _, name = qualname.rpartition(".")
        return is_private(name) if owner == "" else owner == self.target.rpartition(".")[0]

    def keeps_interface(self, qualname: str) -> bool:
        """Whether the definition ``qualname``, though it may change, must keep its interface:
        a public function its signature and decorators, a public class all of it. Not the
        target: what its callers see is what its behaviour check and the tests judge, as
        without the unit scope (and a changed signature raises its risk)."""
        return self.unit and qualname != self.target and not is_private(qualname.rpartition(".")[2])

    def may_add_in(self, owner: str) -> bool:
        """Whether new statements may go in the block of ``owner`` (``""``: the module,
        ``"Class."``: a class)."""
        if owner == "":
            return True
        method_of = self.target.rpartition(".")[0]
        return self.unit and bool(method_of) and owner == method_of + "."

    def may_add(self, qualname: str) -> bool:
        """Whether a new name ``qualname`` may be bound where :meth:`may_add_in` allows: in a
        class only a private one, which no caller outside it is meant to use."""
        owner, _, name = qualname.rpartition(".")
        return owner == "" or is_private(name)

    def refusal(self, original: cst.Module, new: cst.Module) -> str | None:
        """Why ``new`` (the whole file as the candidate leaves it) changes more of ``original``
        than it may; ``None`` when it keeps to its scope."""
        # The cookie decides how Python decodes the file: another one could make it run code
        # that every check here read as a comment.
        if _declared_encoding(new.code) != _declared_encoding(original.code):
            return "changes the file's encoding declaration"
        return _Comparison(self, original, new).block(original.body, new.body, "")


@dataclass(frozen=True)
class _Comparison:
    scope: Scope
    old: cst.Module
    new: cst.Module

    def block(
        self,
        old_body: Sequence[cst.BaseStatement],
        new_body: Sequence[cst.BaseStatement],
        owner: str,
    ) -> str | None:
        """Compare one block: the module's, or that of a class on the way to the target."""
        on_path = self.scope.target[len(owner) :].split(".")[0]
        own = [
            n for n, _ in definitions(old_body) if n == on_path or self.scope.may_rewrite(owner + n)
        ]
        for name in dict.fromkeys([on_path, *own]):
            reason = self.definition(old_body, new_body, owner, name)
            if reason is not None:
                return reason
        at_top = owner == ""
        rest_old = [s for s in old_body if definition_name(s) not in own and not _import(s, at_top)]
        rest_new = [s for s in new_body if definition_name(s) not in own and not _import(s, at_top)]
        if self.scope.unit:
            rest_old, rest_new = self.rewritten_constants(rest_old, rest_new, owner)
        added, missing = self.kept_in_order(rest_old, rest_new)
        if missing is not None:
            return self.gone(missing, added)
        taken: set[str] = set().union(*(names_bound_by(s) for s in old_body))
        if at_top:
            reason = self.imports(old_body, new_body, taken)
            if reason is not None:
                return reason
        for statement in added:
            reason = self.addition(statement, owner, taken)
            if reason is not None:
                return reason
        return None

    def definition(
        self,
        old_body: Sequence[cst.BaseStatement],
        new_body: Sequence[cst.BaseStatement],
        owner: str,
        name: str,
    ) -> str | None:
        """A definition that may change, or that holds the target: there once, of the same
        kind, and (one that holds the target) the same but for the target."""
        olds = [s for s in old_body if definition_name(s) == name]
        news = [s for s in new_body if definition_name(s) == name]
        if not olds:
            return f"{owner}{name} is not defined in the target's file"
        if len(olds) > 1:
            return self.several(olds, news, owner, name)
        if not news:
            if f"{self.scope.target}.".startswith(f"{owner}{name}."):
                return f"removes the target definition {name!r}"
            return f"removes the definition {owner}{name}"
        if len(news) > 1:
            return f"redefines existing name {owner}{name}"
        old, new = olds[0], news[0]
        if type(old) is not type(new):
            return f"changes the kind of {name!r}"
        if self.scope.may_rewrite(owner + name):
            return self.interface(old, new, owner + name)
        if not isinstance(old, cst.ClassDef) or not isinstance(new, cst.ClassDef):
            # The target is nested in a function: that function may not change at all.
            same = self.old_code(old) == self.new_code(new)
            return None if same else f"changes {name!r}, which is not the target"
        # The lines above it are layout (an import added above it moves them), its body is
        # compared statement by statement.
        header = {"body": cst.IndentedBlock([]), "leading_lines": ()}
        if not old.with_changes(**header).deep_equals(new.with_changes(**header)):
            return f"changes the class statement of {name!r}"
        return self.block(class_body(old), class_body(new), f"{owner}{name}.")

    def several(
        self,
        olds: list[cst.BaseStatement],
        news: list[cst.BaseStatement],
        owner: str,
        name: str,
    ) -> str | None:
        """A name defined more than once (a property's getter, setter and deleter): the same
        definitions in the same order, all as they were but the target's own, the one at the
        target's line."""
        if owner + name != self.scope.target and self.scope.may_rewrite(owner + name):
            return self.several_members(olds, news, owner + name)
        if self.scope.line is None or not self.scope.may_rewrite(owner + name):
            return f"{owner}{name} is defined more than once in the file; cannot tell which"
        if len(news) > len(olds):
            return f"redefines existing name {owner}{name}"
        if len(news) < len(olds):
            return f"removes the definition {name!r}"
        for old, new in zip(olds, news, strict=True):
            if type(old) is not type(new):
                return f"changes the kind of {name!r}"
            if self.old_code(old) != self.new_code(new) and not self.holds_target_line(old):
                return f"changes {name!r}, which is not the target"
        return None

    def several_members(
        self, olds: list[cst.BaseStatement], news: list[cst.BaseStatement], qualname: str
    ) -> str | None:
        """A name of the unit defined more than once, not the target's: the same definitions
        in the same order, each keeping its interface."""
        if len(news) != len(olds):
            verb = "redefines existing name" if len(news) > len(olds) else "removes a definition of"
            return f"{verb} {qualname}"
        for old, new in zip(olds, news, strict=True):
            if type(old) is not type(new):
                return f"changes the kind of {qualname}"
            reason = self.interface(old, new, qualname)
            if reason is not None:
                return reason
        return None

    def interface(
        self, old: cst.BaseStatement, new: cst.BaseStatement, qualname: str
    ) -> str | None:
        """Why ``new``, a rewrite of ``old`` that the scope allows, changes what callers see
        of ``qualname``: a public function's signature or decorators (a method must not turn
        into a property or a staticmethod), or anything of a public class."""
        if not self.scope.keeps_interface(qualname):
            return None
        if not isinstance(old, cst.FunctionDef) or not isinstance(new, cst.FunctionDef):
            # A class: its members are its interface, so a public one other than the
            # target's stays as it is.
            same = self.old_code(old) == self.new_code(new)
            return None if same else f"changes {qualname}, a public class"
        if _decorators(old) != _decorators(new):
            return f"changes the decorators of {qualname}"
        if _signature(old) != _signature(new):
            return f"changes the signature of {qualname}"
        return None

    def rewritten_constants(
        self, old: list[cst.BaseStatement], new: list[cst.BaseStatement], owner: str
    ) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
        """``old`` and ``new`` without the constants of the unit that the candidate rewrote:
        a constant line whose names may all be rewritten, paired with the one line of ``new``
        that binds the same names. Anything less clear is left for the usual comparison."""

        def key(statement: cst.BaseStatement) -> frozenset[str] | None:
            names = names_bound_by(statement)
            return frozenset(names) if names and is_constant(statement) else None

        old_keys = [key(s) for s in old]
        new_keys = [key(s) for s in new]
        paired: set[frozenset[str]] = set()
        for names in old_keys:
            if (
                names is not None
                and old_keys.count(names) == 1
                and new_keys.count(names) == 1
                and all(self.scope.may_rewrite(owner + n) for n in names)
            ):
                paired.add(names)
        kept_old = [s for s, k in zip(old, old_keys, strict=True) if k not in paired]
        kept_new = [s for s, k in zip(new, new_keys, strict=True) if k not in paired]
        return kept_old, kept_new

    def holds_target_line(self, statement: cst.BaseStatement) -> bool:
        span = self.old_positions[statement]
        return span.start.line <= (self.scope.line or 0) <= span.end.line

    @cached_property
    def old_positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        wrapper = cst.metadata.MetadataWrapper(self.old, unsafe_skip_copy=True)
        return wrapper.resolve(cst.metadata.PositionProvider)

    def kept_in_order(
        self, old: Sequence[cst.BaseStatement], new: Sequence[cst.BaseStatement]
    ) -> tuple[list[cst.BaseStatement], cst.BaseStatement | None]:
        """The statements of ``new`` that are not ``old``'s kept in their order, and the first
        of ``old`` that is not kept (``None`` when all are)."""
        old_codes = [self.old_code(s) for s in old]
        new_codes = [self.new_code(s) for s in new]
        matcher = difflib.SequenceMatcher(None, old_codes, new_codes, autojunk=False)
        kept_old: set[int] = set()
        kept_new: set[int] = set()
        for a, b, size in matcher.get_matching_blocks():
            kept_old.update(range(a, a + size))
            kept_new.update(range(b, b + size))
        missing = next((s for i, s in enumerate(old) if i not in kept_old), None)
        return [s for i, s in enumerate(new) if i not in kept_new], missing

    def gone(self, statement: cst.BaseStatement, added: list[cst.BaseStatement]) -> str:
        """Why ``statement`` of the original is not where it was."""
        code = self.old_code(statement)
        name = definition_name(statement)
        if code in {self.new_code(s) for s in added}:
            return f"moves {f'the definition {name!r}' if name else repr(code.splitlines()[0])}"
        if name is None:
            return f"removes or changes the statement {code.splitlines()[0]!r}"
        if any(definition_name(s) == name for s in added):
            return f"changes {name!r}, which is not the target"
        return f"removes the definition {name!r}"

    def imports(
        self,
        old_body: Sequence[cst.BaseStatement],
        new_body: Sequence[cst.BaseStatement],
        taken: set[str],
    ) -> str | None:
        """The module's imports: the original's all kept, new ones of the kinds allowed (their
        names join ``taken``)."""
        new_imports = {i.binding: i for s in new_body for i in imports_of(s) or ()}
        old_bindings = set()
        for statement in old_body:
            for old in imports_of(statement) or ():
                if old.binding not in new_imports:
                    code = self.old_code(statement).splitlines()[0]
                    return f"removes or changes the statement {code!r}"
                old_bindings.add(old.binding)
        for binding, new in new_imports.items():
            if binding not in old_bindings:
                reason = _new_import(new, taken)
                if reason is not None:
                    return reason
                taken.add(binding[0])
        return None

    def addition(self, statement: cst.BaseStatement, owner: str, taken: set[str]) -> str | None:
        """Why ``statement``, new in the block of ``owner``, may not be there."""
        names = names_bound_by(statement)
        clash = sorted(names & taken)
        taken |= names
        if clash:
            return f"redefines existing name {owner}{clash[0]}"
        first = self.new_code(statement).splitlines()[0]
        if not self.scope.may_add_in(owner):
            kind = {cst.FunctionDef: "method ", cst.ClassDef: "class "}.get(type(statement))
            what = f"{kind}{definition_name(statement)}" if kind else first
            return (
                f"adds {what} to class {owner[:-1]}: new class members are not supported,"
                " only module-level helpers"
            )
        if definition_name(statement) is None and not is_constant(statement):
            return f"the reply adds a statement that is not an import, helper or constant: {first}"
        public = sorted(n for n in names if not self.scope.may_add(owner + n))
        if public:
            return (
                f"adds public member {owner}{public[0]}: new class members must be private"
                " (a leading underscore)"
            )
        return _shadowing(names)

    def old_code(self, statement: cst.CSTNode) -> str:
        # Blank lines around a statement are layout: an import added above it moves them.
        return self.old.code_for_node(statement).strip()

    def new_code(self, statement: cst.CSTNode) -> str:
        return self.new.code_for_node(statement).strip()


def _decorators(definition: cst.FunctionDef) -> list[str]:
    return [normalized(_code(d.decorator)) for d in definition.decorators]


def _signature(definition: cst.FunctionDef) -> str:
    """The parameters (names, kinds, defaults, annotations), the return annotation and
    whether it is ``async``, with layout and comments left out."""
    returns = f" -> {_code(definition.returns.annotation)}" if definition.returns else ""
    prefix = "async " if definition.asynchronous else ""
    return normalized(f"{prefix}def f({_code(definition.params)}){returns}:\n    pass\n")


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _import(statement: cst.BaseStatement, at_top: bool) -> bool:
    return at_top and imports_of(statement) is not None


def _new_import(new: Import, taken: set[str]) -> str | None:
    if new.obj == "*":  # it may bind any name: no telling what it shadows
        return f"the reply adds a star import from {new.module}"
    if new.module == "__future__":
        return "the reply adds a __future__ import, which changes how the whole file compiles"
    name = new.binding[0]
    return f"redefines existing name {name}" if name in taken else _shadowing({name})


def _shadowing(names: set[str]) -> str | None:
    """A new module-level name that is a builtin's or a special one (``__getattr__``,
    ``__builtins__``) changes code that is not the candidate's."""
    special = sorted(n for n in names if n in _BUILTINS or (n[:2] == n[-2:] == "__"))
    return f"shadows the builtin or special name {special[0]}" if special else None


def _declared_encoding(source: str) -> str:
    try:
        return tokenize.detect_encoding(io.BytesIO(source.encode("utf-8")).readline)[0]
    except SyntaxError as error:  # an unknown or inconsistent declaration
        return f"invalid: {error}"

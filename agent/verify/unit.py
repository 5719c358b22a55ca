"""What a candidate changes besides its target, and what that asks of the other checks.

The scope (``scope.py``, ``Scope(unit=True)``) decides what *may* change: the members of a
method's class, and the module's private helpers and constants. This says what *did*, and
what must then judge it:

- **The class** (a member of the target's class other than the target changed, or a new one
  added): the target is then no longer one function replayed on pickled objects, whose
  private state the candidate may keep otherwise. Its behaviour is judged on sequences of
  calls on real objects (``sequences.py``): construction, then the public methods in order,
  public answers and public attributes compared. So it is timed on them, construction
  included.
- **A helper of the module rewritten** (one that exists in the original): whatever else
  calls it changes too. A function is then judged on its own recorded calls as a target is
  (so every caller sees the same answers); a constant or a class that other code uses may
  not be rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst

from agent.domain import TargetRef
from agent.syntax import (
    changed_definitions,
    class_body,
    definition_diffs,
    definition_name,
    imports_of,
    names_bound_by,
    names_in,
)


@dataclass(frozen=True)
class Unit:
    """The definitions a candidate for ``target`` changes (qualified names, the target
    included when it changed), as ``syntax.changed_definitions`` gives them."""

    target: str
    changed: tuple[str, ...]

    @property
    def owner(self) -> str | None:
        """The class the target is a method of; ``None`` for a function."""
        owner, dot, _ = self.target.rpartition(".")
        return owner if dot else None

    @property
    def beyond(self) -> tuple[str, ...]:
        """What it changes besides the target."""
        return tuple(name for name in self.changed if name != self.target)

    @property
    def class_level(self) -> bool:
        """Whether it changes the target's class beyond the target (a member, new or not)."""
        owner = self.owner
        return owner is not None and any(
            name == owner or name.startswith(owner + ".") for name in self.beyond
        )


def unit_diffs(
    target: TargetRef, original: str, files: Mapping[str, str], changed: Sequence[str]
) -> dict[str, str]:
    """For a candidate that changes more than its target (``changed``), each definition's own
    diff, the target's first (for reviewers: one definition at a time); none otherwise."""
    if not changed:
        return {}
    names = [target.qualname, *changed]
    return definition_diffs(target.path, original, files[target.path], names)


def unit_of(target: str, original: cst.Module, new: cst.Module) -> Unit:
    return Unit(target, tuple(changed_definitions(original, new)))


def shared_helpers(unit: Unit, original: cst.Module) -> dict[str, list[str]]:
    """The existing module-level definitions the candidate rewrites that code it leaves as it
    was, other than the target, also uses: each with those users."""
    top = {name: s for s in original.body for name in _bound(s)}
    rewritten = [n for n in unit.beyond if "." not in n and n in top and n != unit.owner]
    judged = {*unit.changed, unit.target}
    shared = {}
    for name in rewritten:
        users = [
            where
            for where, node in _pieces(original)
            if where not in judged and node is not top[name] and name in names_in(node)
        ]
        if users:
            shared[name] = users
    return shared


def helper_refusal(unit: Unit, original: cst.Module) -> str | None:
    """Why a rewritten definition that other code uses cannot be judged: it is not a function
    (a constant, a class), whose own calls could be recorded and compared; its users'
    behaviour would change unchecked."""
    functions = {s.name.value for s in original.body if isinstance(s, cst.FunctionDef)}
    for name, users in shared_helpers(unit, original).items():
        if name not in functions:
            return (
                f"rewrites {name}, which {listed(users)} also use: their behaviour would change "
                "unchecked (a function's own calls are compared; this is not one)"
            )
    return None


def listed(names: list[str]) -> str:
    """The first three of ``names``, and an ellipsis for more."""
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


def _bound(statement: cst.BaseStatement) -> set[str]:
    """The names a module-level definition or assignment binds (none for an import)."""
    name = definition_name(statement)
    if name is not None:
        return {name}
    return set() if imports_of(statement) is not None else names_bound_by(statement)


def _pieces(module: cst.Module) -> list[tuple[str, cst.CSTNode]]:
    """The module's statements by qualified name, each class as its members (a statement
    with no name, an import or a call, by its first line)."""
    pieces: list[tuple[str, cst.CSTNode]] = []
    for statement in module.body:
        name = definition_name(statement)
        if isinstance(statement, cst.ClassDef):
            for member in class_body(statement):
                member_name = definition_name(member) or _first_line(module, member)
                pieces.append((f"{name}.{member_name}", member))
            pieces.extend((name or "", base) for base in statement.bases)
        else:
            pieces.append((name or _first_line(module, statement), statement))
    return pieces


def _first_line(module: cst.Module, statement: cst.BaseStatement) -> str:
    return repr(module.code_for_node(statement).strip().splitlines()[0][:60])

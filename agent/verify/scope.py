"""The cheapest checks: the edit parses, and it changes only what it may change.

A candidate may rewrite its target and add imports, helper definitions and module-level
constants with new names in the target's file. Everything else in the file stays as it was,
and no other file changes: tests, benchmarks, conftest and configuration judge the
candidate, so a candidate may never touch them.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from agent.domain import Candidate, Target

_ADDABLE = (cst.FunctionDef, cst.ClassDef)
_ADDABLE_SMALL = (cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign)


def check_static(candidate: Candidate, target: Target, original: str) -> tuple[str, str] | None:
    """``(stage, reason)`` when the edit does not parse or is out of bounds, else ``None``."""
    outside = sorted(set(candidate.files) - {target.ref.path})
    if outside:
        return "scope", f"edits files other than the target's: {', '.join(outside)}"
    new_source = candidate.files.get(target.ref.path, original)
    if new_source == original:
        return "scope", "changes nothing"
    try:
        new = cst.parse_module(new_source)
    except cst.ParserSyntaxError as error:
        return "parse", f"syntax error: {str(error).splitlines()[0]} (line {error.raw_line})"
    old = cst.parse_module(original)
    reason = _compare(old, old.body, new, new.body, target.ref.qualname.split("."))
    return None if reason is None else ("scope", reason)


def _compare(
    old_module: cst.Module,
    old_body: Sequence[cst.BaseStatement],
    new_module: cst.Module,
    new_body: Sequence[cst.BaseStatement],
    path: list[str],
) -> str | None:
    """Compare one block: only ``path[0]`` may change; additions must be of allowed kinds."""
    old_named = {_name(s): s for s in old_body if _name(s)}
    new_named = {_name(s): s for s in new_body if _name(s)}
    if path[0] not in new_named:
        return f"removes the target definition {path[0]!r}"
    for name, statement in old_named.items():
        if name == path[0]:
            continue
        if name not in new_named:
            return f"removes the definition {name!r}"
        # Blank lines around a definition are layout: an import added above it moves them.
        before = old_module.code_for_node(statement).strip()
        if before != new_module.code_for_node(new_named[name]).strip():
            return f"changes {name!r}, which is not the target"
    old_other = [old_module.code_for_node(s).strip() for s in old_body if not _name(s)]
    new_other = [new_module.code_for_node(s).strip() for s in new_body if not _name(s)]
    for code in old_other:
        if code not in new_other:
            return f"removes or changes the statement {code.splitlines()[0]!r}"
        new_other.remove(code)
    added = [
        s for s in new_body if not _name(s) and new_module.code_for_node(s).strip() in new_other
    ]
    for statement in added:
        if not _is_small_addition(statement):
            first = new_module.code_for_node(statement).strip().splitlines()[0]
            return f"adds a statement that is not an import, constant or definition: {first!r}"
    rebound = _bound_names(added) & set(old_named)
    if rebound:
        return f"rebinds {', '.join(sorted(rebound))}"
    if len(path) > 1:
        old_class, new_class = old_named[path[0]], new_named[path[0]]
        if not (isinstance(old_class, cst.ClassDef) and isinstance(new_class, cst.ClassDef)):
            return f"changes the kind of {path[0]!r}"
        empty = cst.IndentedBlock([])
        if not old_class.with_changes(body=empty).deep_equals(new_class.with_changes(body=empty)):
            return f"changes the class statement of {path[0]!r}"
        return _compare(old_module, _block(old_class), new_module, _block(new_class), path[1:])
    return None


def _name(statement: cst.CSTNode) -> str | None:
    return statement.name.value if isinstance(statement, _ADDABLE) else None


def _block(node: cst.ClassDef) -> list[cst.BaseStatement]:
    return list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []


def _is_small_addition(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, _ADDABLE_SMALL) for s in statement.body
    )


def _bound_names(statements: list[cst.BaseStatement]) -> set[str]:
    names: set[str] = set()
    for statement in statements:
        for node in getattr(statement, "body", []):
            if isinstance(node, cst.Assign):
                names |= {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
            elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
                names.add(node.target.value)
    return names

"""From a model's reply to the new text of the target's file: all or nothing.

Two shapes of reply are accepted: one fenced code block holding the target's full new
definition (with the imports, helpers and constants it needs), or aider-style SEARCH/REPLACE
blocks. Anything else (truncated code, code elided with a placeholder, an edit that could go
in several places) is refused with a one-line reason, shown to the user and fed back to the
model, rather than guessed at: a wrong guess costs a verification run at best, and at worst
passes it with code silently dropped. Line numbers in reasons are lines of the reply. What
the reply may add or change is not decided here: the file it asks for is built, and the scope
rule (``verify/scope.py``) judges it, as the verifier will. (Over 400 lines: the two shapes of
reply share the placeholder and scope checks, and read best side by side.)
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, WhitespaceInclusivePositionProvider

from agent.providers.unit_reply import (
    Unplaceable,
    duplicated,
    place_in_class,
    replace_namesakes,
    takes_self,
    unit_members,
)
from agent.syntax import (
    Import,
    add_imports,
    change_definition,
    class_body,
    definition_name,
    find_function,
    imports_of,
    is_ambiguous,
    is_filler,
    normalized,
    replace_function,
)
from agent.verify.scope import Scope, is_constant


class PatchError(Exception):
    """The reply cannot be applied; ``str(error)`` is the one-line reason shown to users and
    fed back to the model."""


def apply_reply(reply: str, file_source: str, qualname: str, *, unit: bool = False) -> str:
    """The new text of the target's file, as the reply asks; :class:`PatchError` otherwise.

    A reply is either exactly one fenced python code block (```` ```python ````, ```` ```py ````
    or bare ```` ``` ````) with the full new definition of the target, or one or more
    SEARCH/REPLACE blocks applied to the file's text (chosen when the reply has a
    ``<<<<<<< SEARCH`` line). Prose around the code is ignored. With ``unit`` (the unit scope,
    ``Scope.unit``) the code block may also rewrite other definitions of the target's class
    and module, each replacing its namesake (``providers/unit_reply.py``).
    """
    text = reply.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise PatchError("the reply is empty")
    module = _parse(file_source, "the target's file does not parse")
    if _SEARCH.search(text):
        new_source = _apply_search_replace(text, file_source)
    else:
        new_source = _apply_definition(text, module, qualname, unit)
    new_module = _parse(new_source, "the patched file does not parse")
    # Formatting and comments change no timing: such a candidate is not worth verifying.
    if normalized(new_source) == normalized(file_source):
        raise PatchError("the reply changes nothing")
    # What the reply adds is in the file now, where the one scope rule can judge it.
    refusal = Scope(qualname, unit=unit).refusal(module, new_module)
    if refusal is not None:
        raise PatchError(refusal)
    return new_source


def _parse(code: str, what: str) -> cst.Module:
    try:
        return cst.parse_module(code)
    except cst.ParserSyntaxError as error:
        first = next(iter(error.message.splitlines()), "syntax error")
        raise PatchError(f"{what}: {first}") from None
    except RecursionError:
        raise PatchError(f"{what}: it nests too deeply") from None


# Lines that stand for code the model left out. A comment counts only when it is little more
# than the placeholder phrase: "# keep the order unchanged" is a real comment.
_CODE_WORDS = r"(?:code|methods?|functions?|implementation|logic|body|lines?|helpers?|class|file)"
_PLACEHOLDER = re.compile(
    rf"""^(?:
        (?:\.\.\.|…)\s*(?:\#.*)?                                # `...` as a statement
      | pass\s*\#\s*(?:todo|fixme|\.\.\.|…).*                   # pass  # TODO
      | \#\s*(?:todo:?\s*)?(?:
            (?:\.\.\.|…).*                                      # ... rest unchanged
          | [(\[]?\s*(?:unchanged|no\ changes?|same\ as\ (?:before|above|original))\s*[)\]]?\.?
          | (?:the\ )?(?:rest|remainder)\ of\ (?:the\ )?(?:{_CODE_WORDS}|module)\b.*
          | (?:existing|remaining|other|original|previous|same)\ {_CODE_WORDS}\b
            (?:\s+(?:here|goes\ here|unchanged|omitted|as\ before
                |(?:remains?|stays?)\ (?:the\ same|unchanged)))?
            [\s.…)\]]*
          | (?:{_CODE_WORDS}|rest|everything\ else)\b.{{0,30}}?
            \b(?:unchanged|omitted|elided|as\ before)(?:\ for\ brevity)?[\s.…)\]]*
        )
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def _check_placeholders(lines: Sequence[tuple[int, str]], allowed: set[str]) -> None:
    """Refuse a placeholder among ``lines`` (reply line number, text), unless its text is in
    ``allowed``: a line kept from the code being replaced elides nothing."""
    for number, line in lines:
        stripped = line.strip()
        if stripped not in allowed and _PLACEHOLDER.match(stripped):
            raise PatchError(f"the reply elides code with a placeholder (line {number})")


# --- (a) one code block with the whole new definition -------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^`\n]*)$")
_PYTHON = {"", "python", "py", "python3", "py3"}


@dataclass(frozen=True)
class _Block:
    code: str
    line: int  # the reply line of its first line of code


def _code_blocks(text: str) -> list[_Block]:
    """The reply's fenced python (or bare) code blocks; blocks in other languages are prose."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    fence, info, start = "", "", 0
    for number, line in enumerate(lines, 1):
        match = _FENCE.match(line)
        if not fence:
            if match:
                fence, info, start = match[1], match[2].strip(), number
        elif match and match[1][0] == fence[0] and len(match[1]) >= len(fence) and not match[2]:
            if re.split(r"[\s:{]", info, maxsplit=1)[0].lower() in _PYTHON:
                blocks.append(_Block("\n".join(lines[start : number - 1]) + "\n", start + 1))
            fence = ""
    if fence:  # the reply was cut off (a token limit) mid-code: what parses is not all of it
        raise PatchError("the reply is truncated: a code block is not closed")
    return blocks


def _apply_definition(text: str, module: cst.Module, qualname: str, unit: bool) -> str:
    blocks = _code_blocks(text)
    if not blocks:
        raise PatchError("no python code block in the reply")
    if len(blocks) > 1:
        raise PatchError("several code blocks; expected one")
    block = blocks[0]
    # A method may come at its class's indentation, alone: dedent keeps the line numbers.
    code = textwrap.dedent(block.code) if block.code.lstrip("\n")[:1].isspace() else block.code
    reply = _parse(code, "the code does not parse")
    parts = qualname.split(".")
    old = find_function(module, qualname)
    if old is None and is_ambiguous(module, qualname):
        # A property and its setter share a name: which one is meant cannot be told.
        raise PatchError(f"{qualname} is defined more than once in the file; cannot tell which")
    if old is None:
        raise PatchError(f"{qualname} is not defined in the target's file")
    found = _find_target(reply, parts)
    if found is None and unit and duplicated(reply, qualname):
        raise PatchError(f"the reply defines {parts[-1]} more than once; cannot tell which")
    if found is None:
        raise PatchError(f"no definition of {parts[-1]} in the reply")
    new, classes = found
    # Spans with the comments a definition owns: a trailing "# ... rest unchanged" is in its
    # body's footer, and the comments above it, when it is a helper, go into the file too.
    spans = MetadataWrapper(reply, unsafe_skip_copy=True).resolve(
        WhitespaceInclusivePositionProvider
    )
    code_lines = code.split("\n")

    def lines_of(node: _Statement, skip_leading: bool = False) -> list[tuple[int, str]]:
        span = spans[node]
        first = span.start.line + (len(node.leading_lines) if skip_leading else 0)
        last = span.end.line - (span.end.column == 0)
        return [(block.line + n - 1, code_lines[n - 1]) for n in range(first, last + 1)]

    # A line the file has (the target's own, or with the unit scope any) elides nothing.
    allowed = {line.strip() for line in module.code_for_node(old).split("\n")}
    if unit:
        allowed |= {line.strip() for line in module.code.split("\n")}
    _check_placeholders(lines_of(new, skip_leading=True), allowed)
    top = classes[0] if classes else new
    is_method = len(parts) > 1
    if unit:
        imports, helpers = _additions(reply, top, module, is_method=False)
        try:
            members, helpers = unit_members(reply, classes, module, parts, helpers)
        except Unplaceable as error:
            raise PatchError(str(error)) from None
    else:
        members = _class_members(reply, classes, module, parts)
        imports, helpers = _additions(reply, top, module, is_method)
    for statement in [*helpers, *(s for _, _, added in members for s in added)]:
        _check_placeholders(lines_of(statement), allowed)
    # The file keeps what stood before the target (its blank lines and comments) byte for byte.
    result = replace_function(module, qualname, new.with_changes(leading_lines=old.leading_lines))
    # Whatever else the reply gives goes in too, for the scope rule to judge (``apply_reply``).
    try:
        for owner, after, added in members:
            if unit:
                result = place_in_class(result, owner, added, after)
            else:
                result = _insert_members(result, owner, after, added)
        if unit:
            body, helpers = replace_namesakes(result, result.body, helpers, "")
            result = result.with_changes(body=body)
    except Unplaceable as error:
        raise PatchError(str(error)) from None
    return add_imports(_insert_before(result, parts[0], helpers), imports).code


# A statement of a reply: every kind has the lines (blank, comments) that lead to it.
_Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


def _find_target(
    reply: cst.Module, parts: list[str]
) -> tuple[cst.FunctionDef, list[cst.ClassDef]] | None:
    """The target's definition in the reply, and the classes it is wrapped in there: a method
    may come inside its class (or its outer classes), or alone."""
    for skip in range(len(parts)):
        new = find_function(reply, ".".join(parts[skip:]))
        if new is not None:
            classes: list[cst.ClassDef] = []
            body: Sequence[cst.BaseStatement] = reply.body
            for part in parts[skip:-1]:
                cls = _named(body)[part]
                assert isinstance(cls, cst.ClassDef) and isinstance(cls.body, cst.IndentedBlock)
                classes.append(cls)
                body = cls.body.body
            return new, classes
    return None


def _named(body: Sequence[cst.BaseStatement]) -> dict[str, cst.BaseStatement]:
    """The definitions in ``body`` by name, the last one winning (as in ``find_function``)."""
    return {s.name.value: s for s in body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}


def _class_members(
    reply: cst.Module, classes: list[cst.ClassDef], module: cst.Module, parts: list[str]
) -> list[tuple[str, str, list[_Statement]]]:
    """What the classes wrapped around the target in the reply hold besides it and besides the
    file's members as they are: ``(class, member it goes after, statements)`` for each class."""
    found: list[tuple[str, str, list[_Statement]]] = []
    body: Sequence[cst.BaseStatement] = module.body
    for part in parts[: len(parts) - len(classes) - 1]:  # the classes the reply leaves out
        body = _class_body(_named(body)[part])
    for depth, cls in enumerate(classes, len(parts) - len(classes)):
        body = _class_body(_named(body)[cls.name.value])
        old_codes = {normalized(module.code_for_node(s)) for s in body}
        added = [
            s
            for s in _statements(class_body(cls))
            if definition_name(s) != parts[depth]
            and not is_filler(s)
            and normalized(reply.code_for_node(s)) not in old_codes
        ]
        if added:
            found.append((".".join(parts[:depth]), parts[depth], added))
    return found


def _class_body(node: cst.BaseStatement) -> Sequence[cst.BaseStatement]:
    assert isinstance(node, cst.ClassDef)  # found by the path that ``find_function`` followed
    return class_body(node)


def _insert_members(
    module: cst.Module, owner: str, after: str, statements: list[_Statement]
) -> cst.Module:
    """``statements`` added to the class ``owner``, right after its member ``after``."""

    def insert(cls: cst.FunctionDef | cst.ClassDef) -> cst.FunctionDef | cst.ClassDef:
        assert isinstance(cls.body, cst.IndentedBlock)
        body = cls.body.body
        index = 1 + max(i for i, s in enumerate(body) if definition_name(s) == after)
        block = cls.body.with_changes(body=[*body[:index], *statements, *body[index:]])
        return cls.with_changes(body=block)

    return change_definition(module, owner, insert)


def _statements(body: Sequence[cst.BaseStatement]) -> list[_Statement]:
    return [s for s in body if isinstance(s, (cst.SimpleStatementLine, cst.BaseCompoundStatement))]


def _is_main_guard(statement: cst.BaseStatement) -> bool:
    """``if __name__ == "__main__":``, where models put a usage example."""
    return isinstance(statement, cst.If) and "__main__" in cst.Module([]).code_for_node(
        statement.test
    )


def _additions(
    reply: cst.Module, top: cst.BaseStatement, module: cst.Module, is_method: bool
) -> tuple[list[Import], list[_Statement]]:
    """The imports and the other module-level statements of the reply besides ``top`` (the
    one holding the target) that the file lacks."""
    old_codes = {normalized(module.code_for_node(s)) for s in module.body}
    imports: list[Import] = []
    others: list[_Statement] = []
    for statement in _statements(reply.body):
        if statement is top or is_filler(statement) or _is_main_guard(statement):
            continue
        if normalized(reply.code_for_node(statement)) in old_codes:
            continue  # the file has it already, as it is (a reply that repeats the whole file)
        found = imports_of(statement)
        if found is not None and not any(i.obj == "*" for i in found):
            # ``from __future__`` would change how the whole file compiles; models add it
            # out of habit, so it is left out rather than refused.
            imports += [i for i in found if i.module != "__future__"]
            continue
        if is_method and isinstance(statement, cst.FunctionDef) and takes_self(statement):
            raise PatchError(
                f"adds method {statement.name.value}: new helper methods are not supported,"
                " only module-level helpers"
            )
        # Anything else, a star import among them (which adding imports would sort among the
        # file's), goes in as the reply has it, in its order.
        others.append(statement)
    return imports, others


def _insert_before(module: cst.Module, name: str, statements: Sequence[_Statement]) -> cst.Module:
    """``statements`` added right before the top-level definition ``name``, PEP 8 spaced."""
    if not statements:
        return module
    index = max(i for i, s in enumerate(module.body) if definition_name(s) == name)
    spaced: list[cst.BaseStatement] = []
    for statement in statements:
        comments = [line for line in statement.leading_lines if line.comment is not None]
        # Two blank lines around definitions; consecutive constants stay together.
        together = bool(spaced) and is_constant(spaced[-1]) and is_constant(statement)
        blanks = [] if together else [cst.EmptyLine(), cst.EmptyLine()]
        spaced.append(statement.with_changes(leading_lines=[*blanks, *comments]))
    return module.with_changes(body=[*module.body[:index], *spaced, *module.body[index:]])


# --- (b) SEARCH/REPLACE blocks -------------------------------------------------------------

_SEARCH = re.compile(r"^[ \t]*<{5,9} ?SEARCH[ \t]*$", re.MULTILINE)
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_REPLACE = re.compile(r"^[ \t]*>{5,9} ?REPLACE[ \t]*$")


@dataclass(frozen=True)
class _Edit:
    search: list[str]
    replace: list[str]
    replace_line: int  # the reply line of the first line of ``replace``


def _edits(text: str) -> list[_Edit]:
    """The reply's SEARCH/REPLACE blocks, in or out of code fences (lines outside are prose)."""
    edits: list[_Edit] = []
    search: list[str] | None = None
    replace: list[str] | None = None
    replace_line = 0
    for number, line in enumerate(text.split("\n"), 1):
        if search is None:
            search = [] if _SEARCH.match(line) else None
        elif replace is None:
            if _DIVIDER.match(line):
                replace, replace_line = [], number + 1
            elif _SEARCH.match(line) or _REPLACE.match(line):
                raise PatchError(f"a SEARCH/REPLACE block has no ======= line (line {number})")
            else:
                search.append(line)
        elif _REPLACE.match(line):
            edits.append(_Edit(search, replace, replace_line))
            search = replace = None
        elif _SEARCH.match(line) or _DIVIDER.match(line):
            raise PatchError(f"a SEARCH/REPLACE block has no >>>>>>> REPLACE line (line {number})")
        else:
            replace.append(line)
    if search is not None:
        raise PatchError("the reply is truncated: a SEARCH/REPLACE block is not closed")
    return edits


def _apply_search_replace(text: str, file_source: str) -> str:
    # Match on lines without their CR, and put the CRs back, when the whole file is CRLF.
    crlf = "\r\n" in file_source and "\n" not in file_source.replace("\r\n", "")
    lines = (file_source.replace("\r\n", "\n") if crlf else file_source).split("\n")
    for number, edit in enumerate(_edits(text), 1):
        search, start = _trim(edit.search), 0
        replace = _trim(edit.replace)
        if replace:
            start = next(i for i, line in enumerate(edit.replace) if line.strip())
        if not search:
            raise PatchError(f"SEARCH/REPLACE block {number} has an empty SEARCH part")
        _check_placeholders(
            [(edit.replace_line + start + i, line) for i, line in enumerate(replace)],
            {line.strip() for line in search},
        )
        lines = _apply_edit(lines, search, replace, number)
    result = "\n".join(lines)
    return result.replace("\n", "\r\n") if crlf else result


def _trim(lines: list[str]) -> list[str]:
    """``lines`` without the blank lines around them, which models add or drop at will."""
    kept = [i for i, line in enumerate(lines) if line.strip()]
    return lines[kept[0] : kept[-1] + 1] if kept else []


def _apply_edit(lines: list[str], search: list[str], replace: list[str], number: int) -> list[str]:
    """``lines`` with the one place that matches ``search`` swapped for ``replace``: matched
    exactly, or else with every line indented by the same amount more or less (the replacement
    then shifted by that amount too)."""
    n = len(search)
    windows = range(len(lines) - n + 1)
    hits: list[tuple[int, tuple[str, str]]] = [
        (i, ("", "")) for i in windows if lines[i : i + n] == search
    ]
    if not hits:
        hits = [(i, shift) for i in windows if (shift := _shift(lines[i : i + n], search))]
    if not hits:
        raise PatchError(f"SEARCH/REPLACE block {number} matches nowhere in the file")
    if len(hits) > 1:
        raise PatchError(
            f"SEARCH/REPLACE block {number} matches {len(hits)} places in the file; expected one"
        )
    i, (drop, add) = hits[0]
    shifted = [
        ""
        if not line.strip()
        else add + (line[len(drop) :] if line.startswith(drop) else line.lstrip())
        for line in replace
    ]
    return [*lines[:i], *shifted, *lines[i + n :]]


def _shift(window: list[str], search: list[str]) -> tuple[str, str] | None:
    """``(drop, add)`` such that each line of ``window`` is the line of ``search`` with the
    indentation prefix ``drop`` removed and ``add`` put in front (one of them empty), trailing
    whitespace aside; ``None`` when there is no such offset."""
    shift: tuple[str, str] | None = None
    for have, want in zip(window, search, strict=True):
        if not have.strip() or not want.strip():
            if have.strip() or want.strip():
                return None
            continue
        have_indent = have[: len(have) - len(have.lstrip())]
        want_indent = want[: len(want) - len(want.lstrip())]
        if have.strip() != want.strip():
            return None
        if have_indent.startswith(want_indent):
            this = ("", have_indent[len(want_indent) :])
        elif want_indent.startswith(have_indent):
            this = (want_indent[len(have_indent) :], "")
        else:
            return None
        if shift is not None and this != shift:
            return None
        shift = this
    return shift


def as_diff(root: Path, files: dict[str, str]) -> str:
    """``files`` (path → new text) as a git-style unified diff against the files in ``root``."""
    chunks: list[str] = []
    for path, text in sorted(files.items()):
        before = root / path
        old = before.read_text(encoding="utf-8") if before.is_file() else ""
        chunks.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"a/{path}" if old else "/dev/null",
                f"b/{path}",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)

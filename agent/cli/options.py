"""Run settings on the command line: which ``RunConfig`` fields are options, and how a
command takes them.

A run option is declared once: its type, default, bounds and help on its field in
agent/config.py, its flag as one line of ``RUN_OPTIONS`` below. ``takes`` turns such lines
into a command's typer options and hands the command what was given as one ``flags`` dict,
keyed by field, ready for ``load_config``: a flag wins over ``[tool.evolver]``, which wins
over the field's default.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Union, get_args, get_origin

import typer

from agent.config import RunConfig

Flags = dict[str, object]  # RunConfig field -> the value the command line gave (None: none)
Command = Callable[..., None]

_TYPED = (bool, int, float, str, Path)  # what click parses itself; the rest is text for pydantic


def from_here(python: str) -> str:
    """A ``--python`` path is relative to where the command runs (in ``[tool.evolver]``, to
    the repo); a bare name (``python3.12``) is looked up on PATH."""
    return str(Path(python).absolute()) if "/" in python else python


@dataclass(frozen=True)
class ConfigOption:
    """One ``RunConfig`` field as a command-line option."""

    field: str
    flag: str = ""  # default: --field-name
    help: str = ""  # default: the field's description
    default: object = None  # shown in --help; None: [tool.evolver]'s, else the field's
    repeat: bool = False  # --target A --target B
    negates: bool = False  # a switch (--no-cache) that, given, sets the field False
    convert: Callable[[str], str] | None = None  # of the text given, before RunConfig sees it

    @property
    def name(self) -> str:
        return self.flag or "--" + self.field.replace("_", "-")

    def parameter(self) -> inspect.Parameter:
        """The typer parameter, named after the field."""
        field = RunConfig.model_fields[self.field]
        help_text = self.help or field.description or ""
        if self.negates:
            option = typer.Option(False, self.name, help=help_text)
            return _keyword(self.field, bool, option)
        kind = _parsed_as(field.annotation)
        names = f"{self.name}/--no-{self.name[2:]}" if kind is bool else self.name
        parsed = types.GenericAlias(list, (kind,)) if self.repeat else kind
        annotation = parsed if self.default is not None else parsed | None
        return _keyword(self.field, annotation, typer.Option(self.default, names, help=help_text))

    def value(self, given: object) -> object:
        """What the command line gave, as ``load_config`` takes it."""
        if self.negates:
            return False if given else None
        if isinstance(given, list | tuple):
            return tuple(given)
        if self.convert is not None and isinstance(given, str):
            return self.convert(given)
        return given


def _parsed_as(annotation: object) -> type:
    """The field's type as click parses it: optional-ness dropped, and text for what only
    pydantic can check (a Literal, a command line to split, a target to parse)."""
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Literal or annotation not in _TYPED:
        return str
    assert isinstance(annotation, type)
    return annotation


def _keyword(name: str, annotation: object, default: object) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# evolver run: the order is --help's.
RUN_OPTIONS = (
    ConfigOption("targets", "--target", repeat=True),
    ConfigOption("provider"),
    ConfigOption("model"),
    ConfigOption("base_url"),
    ConfigOption("candidates"),
    ConfigOption("rounds"),
    ConfigOption("max_targets"),
    ConfigOption("min_speedup"),
    ConfigOption("objective"),
    ConfigOption("min_memory_saving"),
    ConfigOption("max_slowdown"),
    ConfigOption("float_tolerance"),
    ConfigOption("strict_behaviour"),
    ConfigOption("check_timeout"),
    ConfigOption("timing_budget"),
    ConfigOption("min_time"),
    ConfigOption("memory_mb"),
    ConfigOption("branch"),
    ConfigOption("json_path", "--json"),
    ConfigOption("jobs"),
    ConfigOption("workload"),
    ConfigOption("test_command"),
    ConfigOption("temperature"),
    ConfigOption("strategies"),
    ConfigOption("max_tokens"),
    ConfigOption("request_timeout", "--timeout"),
    ConfigOption("seed"),
    ConfigOption("budget_usd"),
    ConfigOption(
        "confirm", "--no-confirm", "Skip timing the whole result against the base.", negates=True
    ),
    ConfigOption(
        "cache", "--no-cache", "Ask the model again, ignoring cached replies.", negates=True
    ),
    ConfigOption("model_path"),
    ConfigOption("key_file"),
    ConfigOption("record_replies"),
    ConfigOption("replies"),
    ConfigOption("base"),
    ConfigOption("python", convert=from_here),
    ConfigOption("max_prompt_tokens"),
    ConfigOption("context_window"),
)
_RUN = {option.field: option for option in RUN_OPTIONS}


def shared(*fields: str) -> tuple[ConfigOption, ...]:
    """``evolver run``'s options, for another command that takes them as they are."""
    return tuple(_RUN[field] for field in fields)


def varied(field: str, help: str) -> ConfigOption:
    """``evolver run``'s option with another help text, for a command where it means
    something narrower."""
    return replace(_RUN[field], help=help)


PROFILE_OPTIONS = (
    *shared("workload", "test_command"),
    replace(varied("max_targets", "Rows to show."), default=20),
    *shared("json_path", "python", "memory_mb", "objective"),
)
PROMPT_OPTIONS = (
    replace(varied("targets", "FILE::QUALNAME (default: the hottest)."), repeat=False),
    varied("model", "Model whose tokenizer counts."),
    *shared("workload", "test_command", "python"),
    varied("max_prompt_tokens", "Most tokens in the prompt."),
    *shared("memory_mb", "objective"),
)
# Every command that runs the project's code takes --memory-mb (run, profile, prompt, watch).
WATCH_OPTIONS = shared("memory_mb")


def flag_names(options: Iterable[ConfigOption]) -> dict[str, str]:
    """How these options spell their fields, for ``load_config``'s errors."""
    return {option.field: option.name for option in options}


def gather(options: Iterable[ConfigOption], given: Mapping[str, object]) -> Flags:
    """The flags, by field, from what click parsed (by parameter name, which is the field)."""
    return {option.field: option.value(given[option.field]) for option in options}


@dataclass(frozen=True)
class _StandIn:
    """Options that stand for one parameter of a command, and how they make its value."""

    parameters: list[inspect.Parameter]
    build: Callable[[Mapping[str, object]], object]


def takes(
    options: Sequence[ConfigOption] = (), **groups: Callable[..., object]
) -> Callable[[Command], Command]:
    """Give ``command`` these options where its ``flags`` parameter stands in its signature
    (so in --help), and call it with what they were given gathered into ``flags``. A group
    (a dataclass whose fields are typer options) stands likewise for the parameter of its
    name, which gets it built from them."""
    gathered = functools.partial(gather, options)
    stand_ins = {"flags": _StandIn([o.parameter() for o in options], gathered)}
    for name, group in groups.items():
        parameters = inspect.signature(group, eval_str=True).parameters.values()
        stand_ins[name] = _StandIn(list(parameters), functools.partial(_build, group))

    def decorate(command: Command) -> Command:
        own = inspect.signature(command, eval_str=True).parameters.values()
        used = {p.name: stand_ins[p.name] for p in own if p.name in stand_ins}
        parameters = [
            # keyword-only, so that the options may stand between the others in any order
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for mine in own
            for p in (used[mine.name].parameters if mine.name in used else [mine])
        ]

        @functools.wraps(command)
        def with_options(**given: object) -> None:
            for name, stand_in in used.items():
                taken = {p.name: given.pop(p.name) for p in stand_in.parameters}
                given[name] = stand_in.build(taken)
            command(**given)

        # What typer reads to build the command: the options in place of what they stand for.
        vars(with_options)["__signature__"] = inspect.Signature(parameters)
        with_options.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_options

    return decorate


def _build(group: Callable[..., object], given: Mapping[str, object]) -> object:
    return group(**given)

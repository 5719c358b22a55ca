"""Run a rule on source text, and check a rewrite keeps behaviour on sample inputs."""

from __future__ import annotations

import copy
import textwrap
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

import libcst as cst

from agent.providers.rules.base import Rule


def rewrite(rule: Rule, source: str, qualname: str) -> str | None:
    """The rewritten source, or ``None`` when the rule does not fire."""
    module = cst.parse_module(textwrap.dedent(source).lstrip())
    result = rule.apply(module, qualname)
    return None if result is None else result.code


def load(source: str, name: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<rule-test>", "exec"), namespace)
    function = namespace
    for part in name.split("."):
        function = function[part] if isinstance(function, dict) else getattr(function, part)
    return function  # type: ignore[return-value]


def _outcome(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """What ``function`` returns (or the type of what it raises) on a fresh copy of ``args``,
    and that copy afterwards: a change to an argument is part of the behaviour."""
    args = copy.deepcopy(args)
    try:
        result: Any = function(*args)
    except Exception as error:  # the type is what we compare
        result = type(error)
    return result, args


def assert_same_behaviour(
    before: str, after: str, name: str, inputs: Iterable[tuple[Any, ...]]
) -> None:
    """Original and rewrite return the same values (or raise the same exception type), and
    leave their arguments in the same state."""
    original, rewritten = load(textwrap.dedent(before), name), load(after, name)
    for args in inputs:
        expected, expected_args = _outcome(original, args)
        got, got_args = _outcome(rewritten, args)
        assert got == expected, f"{name}{args!r}: {got!r} != {expected!r}"
        for arg, expected_arg, got_arg in zip(args, expected_args, got_args, strict=True):
            # An argument whose copy does not compare equal to it (``itemgetter(0)``) compares
            # by identity, so its state cannot be compared.
            if copy.deepcopy(arg) == arg:
                assert got_arg == expected_arg, (
                    f"{name}{args!r} leaves {got_arg!r}, not {expected_arg!r}"
                )


def peak(function: Callable[..., Any], *args: Any) -> int:
    """The most memory ``function(*args)`` held at once, traced (``tracemalloc``)."""
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

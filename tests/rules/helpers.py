"""Run a rule on source text, and check a rewrite keeps behaviour on sample inputs."""

from __future__ import annotations

import textwrap
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


def assert_same_behaviour(
    before: str, after: str, name: str, inputs: Iterable[tuple[Any, ...]]
) -> None:
    """Original and rewrite return the same values, or raise the same exception type."""
    original, rewritten = load(textwrap.dedent(before), name), load(after, name)
    for args in inputs:
        try:
            expected: Any = original(*args)
        except Exception as error:  # noqa: BLE001 - the type is what we compare
            expected = type(error)
        try:
            got: Any = rewritten(*args)
        except Exception as error:  # noqa: BLE001
            got = type(error)
        assert got == expected, f"{name}{args!r}: {got!r} != {expected!r}"

"""How two observed outcomes differ, in words: the comparison and the rendering of outcomes.

An outcome is the description ``evolver_observe`` makes of a call: what it returned or raised,
and its arguments as the call left them, as JSON trees (``["seq", "list", [...]]``). Both
sides' trees are compared here, in Evolver's process; a reason names the first place they
differ, rendered as short Python-like text (a large value costs no more than a small one).
"""

from __future__ import annotations

import math
from typing import Any

from agent.reports.format import cut


def difference(
    original: dict[str, Any], candidate: dict[str, Any], rel_tol: float, messages: bool
) -> str | None:
    """How the candidate's outcome differs from the original's, in words, or ``None``."""
    was: list[str] | None = original.get("raised")
    now: list[str] | None = candidate.get("raised")
    if was is None and now is not None:
        return f"raises {_exception(now)} where the original {_did(original)}"
    if now is None and was is not None:
        return f"{_did(candidate)} where the original raises {_exception(was)}"
    if was is not None and now is not None and was != now and (was[0] != now[0] or messages):
        return f"raises {_exception(now)} where the original raises {_exception(was)}"
    if "returned" in original or "returned" in candidate:
        place = _first_difference(original.get("returned"), candidate.get("returned"), rel_tol)
        if place is not None:
            where, old, new = place
            if where:
                return f"the result differs at {where}: {render(new)} instead of {render(old)}"
            return f"returns {render(new)} where the original returns {render(old)}"
    place = _first_difference(original["args"], candidate["args"], rel_tol)
    if place is not None:
        where, old, new = place
        return (
            f"leaves the arguments different: {_argument(where)} is {render(new)} "
            f"where the original leaves {render(old)}"
        )
    return None


def state_difference(original: Any, candidate: Any, rel_tol: float) -> str | None:
    """How an object's public state after a call (a description of its public attributes by
    name, as ``evolver_sequences`` writes it) differs, in words, or ``None``."""
    if not (_is_map(original) and _is_map(candidate)):  # no object (a constructor raised)
        if original == candidate:
            return None
        return f"leaves the object {render(candidate)} where the original leaves {render(original)}"
    # Seen as one object's attributes, the place reads ``self.records[2]``.
    place = _first_difference(["obj", "", original], ["obj", "", candidate], rel_tol)
    if place is None:
        return None
    where, old, new = place
    if where == " (keys)":
        return f"has the public attributes {render(new)} where the original has {render(old)}"
    return f"leaves self{where} as {render(new)} where the original leaves {render(old)}"


def _is_map(tree: Any) -> bool:
    return isinstance(tree, list) and len(tree) == 3 and tree[0] == "map"


def _did(outcome: dict[str, Any]) -> str:
    return f"returns {render(outcome.get('returned'))}"


def _exception(raised: list[str]) -> str:
    name = cut(raised[0], 80)
    return f"{name}({cut(raised[1], 120)!r})" if raised[1] else name


def _argument(where: str) -> str:
    """A path into the ``(args, kwargs)`` description, in words."""
    if where.startswith("[0]["):
        number, _, rest = where[4:].partition("]")
        return f"argument {int(number) + 1}{rest}"
    if where.startswith("[1]["):
        return f"keyword argument {where[4:]}"
    return f"the arguments{where}"


Difference = tuple[str, Any, Any]  # where, the original's part, the candidate's part


def _first_difference(old: Any, new: Any, rel_tol: float, where: str = "") -> Difference | None:
    """Where two descriptions (see ``evolver_observe``) first differ, or ``None``."""
    if type(old) is not type(new):
        return where, old, new
    if isinstance(old, float):
        if old == new or (math.isnan(old) and math.isnan(new)):
            return None
        close = math.isclose(old, new, rel_tol=rel_tol, abs_tol=0.0)
        return None if close else (where, old, new)
    if not isinstance(old, list):
        return None if old == new else (where, old, new)
    if old[:2] != new[:2] or len(old) != len(new):  # another kind or type
        return where, old, new
    kind = old[0]
    if kind in ("seq", "set", "iter"):
        return _first_in_items(old[2], new[2], rel_tol, where)
    if kind == "map":
        return _first_in_pairs(old[2], new[2], rel_tol, where, "[{}]")
    if kind == "obj" and isinstance(old[2], list) and old[2][:1] == ["map"] == new[2][:1]:
        return _first_in_pairs(old[2][2], new[2][2], rel_tol, where, ".{}")
    return None if old == new else (where, old, new)


def _first_in_items(
    old: list[Any], new: list[Any], rel_tol: float, where: str
) -> Difference | None:
    for number, (part_old, part_new) in enumerate(zip(old, new)):  # noqa: B905 - lengths below
        found = _first_difference(part_old, part_new, rel_tol, f"{where}[{number}]")
        if found is not None:
            return found
    if len(old) != len(new):
        return f"{where} (length)", len(old), len(new)
    return None


def _first_in_pairs(
    old: list[Any], new: list[Any], rel_tol: float, where: str, step: str
) -> Difference | None:
    keys = f"{where} (keys)", _keys(old), _keys(new)
    for (key_old, value_old), (key_new, value_new) in zip(old, new):  # noqa: B905
        if key_old != key_new:
            return keys
        name = cut(key_old, 40) if isinstance(key_old, str) and step == ".{}" else render(key_old)
        found = _first_difference(value_old, value_new, rel_tol, where + step.format(name))
        if found is not None:
            return found
    return keys if len(old) != len(new) else None


def _keys(pairs: list[Any]) -> list[Any]:
    return ["seq", "list", [key for key, _ in pairs]]


def render_call(arguments: Any, limit: int = 80) -> str:
    """The ``(args, kwargs)`` description as a call's argument list."""
    try:
        args, kwargs = arguments[2][0][2], arguments[2][1][2]
        parts = _joined(args, limit) + _joined(kwargs, limit, keyword=True)
    except (IndexError, KeyError, TypeError, ValueError, RecursionError):
        return "(…)"
    return cut("(" + ", ".join(parts) + ")", limit)


def render(tree: Any, limit: int = 80) -> str:
    """A description as Python-like text, cut at ``limit`` characters."""
    try:
        return cut(_render(tree, limit), limit)
    except RecursionError:
        return "…"


def _render(tree: Any, budget: int) -> str:
    """The text of ``tree``; past ``budget`` characters the rest is left out unseen (with a
    trailing "…", and longer than ``budget``, so the caller's cut shows that it was)."""
    if isinstance(tree, str):
        return repr(tree) if len(tree) <= budget else repr(tree[: budget + 1])
    if not isinstance(tree, list) or not tree:
        return repr(tree)
    kind = tree[0]
    if kind == "ref":
        return "<an object seen before>"
    if kind == "deep" or len(tree) != 3:
        return "…"
    name, payload = cut(str(tree[1]), budget + 2), tree[2]
    if kind in ("seq", "set", "iter", "map") and not isinstance(payload, list):
        return "…"
    if kind == "seq":
        inner = ", ".join(_joined(payload, budget))
        if name == "list":
            return f"[{inner}]"
        if name == "tuple":
            return f"({inner}{',' if len(payload) == 1 else ''})"
        return f"{name}([{inner}])"
    if kind == "map":
        inner = ", ".join(_joined(payload, budget, pairs=True))
        return "{" + inner + "}" if name == "dict" else f"{name}({{{inner}}})"
    if kind == "set":
        inner = ", ".join(_joined(payload, budget))
        return "{" + inner + "}" if name == "set" and payload else f"{name}({{{inner}}})"
    if kind == "iter":
        return f"<{name} yielding {', '.join(_joined(payload, budget))}>"
    text = payload[: budget + 1] if isinstance(payload, str) else "…"
    if kind == "exception":
        return f"{name}({text!r})"
    if kind in ("scalar", "bytes"):
        return f"{name}({text})"
    if kind == "module":
        return f"<module {text}>"
    return f"<{name}>"


def _joined(
    items: list[Any], budget: int, *, pairs: bool = False, keyword: bool = False
) -> list[str]:
    """The texts of ``items`` (``key: value`` for ``pairs``, ``key=value`` for ``keyword``) up
    to about ``budget`` characters, then "…": a large value costs no more than a small one."""
    parts: list[str] = []
    used = 0
    for item in items:
        if used > budget:
            parts.append("…")
            break
        left = budget - used
        if pairs:
            key, value = item
            text = f"{_render(key, left)}: {_render(value, left)}"
        elif keyword:
            key, value = item
            text = f"{cut(str(key), left + 2)}={_render(value, left)}"
        else:
            text = _render(item, left)
        parts.append(text)
        used += len(text) + 2
    return parts

"""Same behaviour as the original: replay real and generated calls on both, and compare.

The original is observed twice, in two processes: a call whose outcome differs between them
(randomness, clocks, hidden state) cannot judge anything and is left out. A candidate must
then match the original on every other call: the value returned (floats within a relative
tolerance, NaN equal to NaN), or the exception raised (same type, and for recorded calls the
same message), the arguments as the call leaves them (a mutated input, or an object's state
after a method call), what a returned iterator yields. Every outcome is compared in Evolver's
process as JSON; nothing the candidate produced is unpickled here.

Answers are hostile data: each is validated (:mod:`agent.verify.answers`) before anything reads
it, and every reason built from what the code under test controls (its results, exception
messages, inputs it was given) is capped and scrubbed of anything that looks like a secret.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from agent.domain import TargetRef
from agent.project import Project
from agent.verify.answers import InputsAnswer, MalformedAnswer, ObserveAnswer
from agent.verify.harness import HarnessError, run_harness
from agent.verify.untrusted import scrub
from sandbox import Sandbox

# How long one call may take when observed. Generated inputs the original cannot handle in
# time (an exponential algorithm on a larger input) are dropped; a candidate gets a generous
# multiple of the original's time before it is said to hang.
RECORDED_CALL_LIMIT = 30.0
GENERATED_CALL_LIMIT = 0.5
REASON_LIMIT = 400  # characters of a reason built from what the code under test controls


@dataclass(frozen=True)
class Behaviour:
    """What the original does: the reference every candidate of a target must match.

    ``calls`` are the recorded calls followed by the generated ones (from ``generated_from``
    on); ``checkable`` are the indexes of calls whose outcome the original repeats.
    """

    calls: list[bytes]
    generated_from: int
    observations: list[dict[str, Any] | None]
    digests: list[str | None]
    inputs: list[Any]
    seconds: list[float]
    checkable: frozenset[int]
    notes: tuple[str, ...] = ()

    def index(self) -> dict[bytes, int]:
        return {call: number for number, call in enumerate(self.calls)}

    def counts(self) -> tuple[int, int]:
        """How many recorded and how many generated calls a candidate is held to."""
        generated = sum(1 for i in self.checkable if i >= self.generated_from)
        return len(self.checkable) - generated, generated

    def describe(self) -> str:
        recorded, generated = self.counts()
        return f"{recorded} recorded and {generated} generated calls"


@dataclass(frozen=True)
class Observed:
    """What a candidate did on the behaviour's calls: the digest of each outcome."""

    digests: dict[int, str]


def observe(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    calls: list[bytes],
    limits: list[float],
    timeout: float,
    stop_on_timeout: bool = False,
) -> ObserveAnswer:
    """What the target did on each of ``calls``, validated: :class:`HarnessError` otherwise."""
    spec = {
        "mode": "observe",
        "module": target.module,
        "qualname": target.qualname,
        "limits": limits,
        "stop_on_timeout": stop_on_timeout,
    }
    answer = run_harness(
        project, sandbox, "evolver_timer.py", spec, calls, timeout, schema=ObserveAnswer
    )
    try:
        answer.expect_calls(len(calls))
    except MalformedAnswer as error:
        raise HarnessError(f"gave a malformed answer: {error}") from None
    return answer


def generate_inputs(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    recorded: list[bytes],
    count: int,
    timeout: float,
) -> tuple[list[bytes], str | None]:
    """Property inputs drawn by hypothesis, in the original's sandbox; a note when none."""
    spec = {"module": target.module, "qualname": target.qualname, "count": count}
    try:
        answer = run_harness(
            project, sandbox, "evolver_inputs.py", spec, recorded, timeout, schema=InputsAnswer
        )
    except HarnessError as error:
        return [], f"cannot generate inputs: {error}"
    if len(answer.calls) > count:
        return [], f"cannot generate inputs: gave {len(answer.calls)} calls, not at most {count}"
    return answer.calls, None if answer.note is None else scrub(answer.note, REASON_LIMIT)


def reference(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    recorded: list[bytes],
    generated: list[bytes],
    timeout: float,
) -> Behaviour:
    """Observe the original twice; keep the generated calls it handles in time."""
    limits = [RECORDED_CALL_LIMIT] * len(recorded) + [GENERATED_CALL_LIMIT] * len(generated)
    first = observe(project, sandbox, target, recorded + generated, limits, timeout)
    kept = [
        number
        for number, seconds in enumerate(first.seconds)
        if number < len(recorded) or seconds is not None
    ]
    calls = [(recorded + generated)[number] for number in kept]
    second = observe(project, sandbox, target, calls, [limits[number] for number in kept], timeout)
    first_digests = [first.digests[number] for number in kept]
    checkable = frozenset(
        number
        for number, (one, two) in enumerate(zip(first_digests, second.digests, strict=True))
        if one is not None and one == two
    )
    notes = []
    unrepeatable = len(calls) - len(checkable)
    if unrepeatable:
        notes.append(
            f"{unrepeatable} calls give a different outcome each time and are not compared"
        )
    return Behaviour(
        calls=calls,
        generated_from=len(recorded),
        observations=[first.observations[number] for number in kept],
        digests=first_digests,
        inputs=[first.inputs[number] for number in kept],
        seconds=[first.seconds[number] or 0.0 for number in kept],
        checkable=checkable,
        notes=tuple(notes),
    )


def check(
    project: Project,
    sandbox: Sandbox,
    target: TargetRef,
    behaviour: Behaviour,
    rel_tol: float,
    timeout: float,
) -> tuple[str | None, Observed]:
    """``(why the candidate differs, or None; what it did)``.

    The reason quotes values the candidate produced: it is capped and scrubbed.
    """
    limits = [max(2.0, 20 * seconds) for seconds in behaviour.seconds]
    answer = observe(project, sandbox, target, behaviour.calls, limits, timeout, True)
    observed = Observed({n: d for n, d in enumerate(answer.digests) if d is not None})
    why = _first_mismatch(behaviour, answer, limits, rel_tol)
    return (None if why is None else _scrubbed(why)), observed


def _first_mismatch(
    behaviour: Behaviour, answer: ObserveAnswer, limits: list[float], rel_tol: float
) -> str | None:
    hung = answer.timed_out_at
    if hung is not None:
        took = behaviour.seconds[hung]
        given = render_call(behaviour.inputs[hung])
        hang = f"did not finish in {limits[hung]:.1f}s (the original took {took:.3f}s)"
        return f"on a call {given}: {hang}"
    for number in sorted(behaviour.checkable):
        kind = "recorded" if number < behaviour.generated_from else "generated"
        was, mine = behaviour.observations[number], answer.observations[number]
        if was is None or mine is None:  # checkable calls have an outcome; a forged answer not
            why: str | None = "gave no outcome"
        else:
            try:
                why = difference(was, mine, rel_tol, kind == "recorded")
            except RecursionError:  # validated answers stay shallower; a last line of defence
                why = "gives an outcome nested too deeply to compare"
        if why is not None:
            return f"on a {kind} call {render_call(behaviour.inputs[number])}: {why}"
    return None


def _scrubbed(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` capped, with anything that looks like a secret masked (cut before the scrub
    too, so that its cost stays bounded whatever the candidate produced)."""
    return scrub(text[: limit * 4], limit)


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


def _did(outcome: dict[str, Any]) -> str:
    return f"returns {render(outcome.get('returned'))}"


def _exception(raised: list[str]) -> str:
    name = _cut(raised[0], 80)
    return f"{name}({_cut(raised[1], 120)!r})" if raised[1] else name


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
        name = _cut(key_old, 40) if isinstance(key_old, str) and step == ".{}" else render(key_old)
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
    return _cut("(" + ", ".join(parts) + ")", limit)


def render(tree: Any, limit: int = 80) -> str:
    """A description as Python-like text, cut at ``limit`` characters."""
    try:
        return _cut(_render(tree, limit), limit)
    except RecursionError:
        return "…"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    name, payload = _cut(str(tree[1]), budget + 2), tree[2]
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
            text = f"{_cut(str(key), left + 2)}={_render(value, left)}"
        else:
            text = _render(item, left)
        parts.append(text)
        used += len(text) + 2
    return parts

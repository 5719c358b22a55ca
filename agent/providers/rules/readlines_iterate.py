"""``for line in f.readlines():`` → ``for line in f:``: one line in memory, not the whole file.

For a file object (anything built on ``io``: ``open()``, ``io.StringIO``, ``gzip.open``…)
``readlines()`` without a hint *is* ``list(f)``: the same lines, each with its line ending
(``\\n``, or what ``newline=`` keeps), in binary mode too. Iterating the file reads them one at
a time instead of all first. What differs is only when the reading happens, so the rule fires
where nothing can tell:

* ``f`` is a plain name and ``readlines`` gets no argument (a hint stops early);
* it is the ``in`` of a (non-async) ``for`` statement, or of a clause of a list, set or dict
  comprehension; not of a generator expression, which would read the file lazily after the
  statement that made it (maybe after a ``with`` closed the file);
* the loop body (for a comprehension: the element, the conditions and the later clauses) does
  not mention ``f`` at all, nor does the loop target: no ``f.seek``, ``f.read``,
  ``f.readline``, ``f.tell``, ``next(f)``, nor ``f`` passed on, since those would interleave
  with the iteration;
* the body does not ``yield`` or ``await``, which would hand control elsewhere mid-file;
* when the loop can stop before the end of the file, whoever sees ``f`` afterwards would find
  it mid-file rather than at its end. So when the body may ``break`` out of this loop or
  ``return``, or when the loop sits in a ``try`` or ``with`` that may catch an exception raised
  half-way, ``f`` must be private to the loop: bound by a ``with open(...) as f:`` (the builtin
  ``open``) around it, in the function's own body, and mentioned nowhere else in the function
  (which does not call ``locals``, ``vars``, ``dir``, ``eval`` or ``exec`` either), so the file
  is closed before anyone could read on.

After a loop that ran to the end, the file is at its end either way. Assumed, and left to the
verifier: ``f`` is such a file object, and no one writes to the file while the loop reads it.
One relaxation remains, on inputs where the loop raises out of the function (a line the body
rejects, or a read error such as a bad encoding): the lines before the failure have been
processed (a read error used to come before any), and a caller holding ``f`` finds it just
after the failing line rather than at its end.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import NESTED_SCOPES, UnwrapCalls, uses_dynamic_scope, variable_uses

_READLINES = m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("readlines")), args=[])
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# Statements that may catch an exception raised half-way through the loop and go on.
_CATCHING = (cst.Try, cst.TryStar, cst.With)


class ReadlinesIterate(FunctionRule):
    name = "readlines_iterate"
    strategy = "streaming"
    summary = "`for line in f.readlines():` → `for line in f:`, one line at a time"

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _READLINES))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        calls = {
            call
            for call in m.findall(ctx.function, _READLINES)
            if isinstance(call, cst.Call) and _is_safe(ctx, call)
        }
        if not calls:
            return None
        return ctx.function.visit(UnwrapCalls(calls, _file_of))  # type: ignore[return-value]


def _is_safe(ctx: RuleContext, call: cst.Call) -> bool:
    assert isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name)
    name = call.func.value.value
    if m.findall(call, m.Comment()):
        return False  # it would be lost
    loop = ctx.parents[call]
    if not isinstance(loop, (cst.For, cst.CompFor)) or loop.iter is not call or loop.asynchronous:
        return False
    region: cst.CSTNode
    if isinstance(loop, cst.For):
        body: list[cst.CSTNode] = [loop.target, loop.body]
        exits = _Exits()
        loop.body.visit(exits)
        if exits.suspends:
            return False
        early, region = exits.early, loop
    else:
        comp = _comprehension(ctx, loop)
        if isinstance(comp, cst.GeneratorExp) or m.findall(comp, m.Await()):
            return False
        body = [loop.target, *loop.ifs, *_results(comp)]
        if loop.inner_for_in is not None:
            body.append(loop.inner_for_in)
        early, region = False, comp
    if any(variable_uses(part, name) for part in body):
        return False
    if _private_file(ctx, call, name):
        return True
    return not early and not any(isinstance(a, _CATCHING) for a in ctx.ancestors(region))


def _comprehension(ctx: RuleContext, clause: cst.CompFor) -> cst.CSTNode:
    """The comprehension a ``for`` clause belongs to."""
    node: cst.CSTNode = clause
    while isinstance(node, cst.CompFor):
        node = ctx.parents[node]
    assert isinstance(node, _COMPREHENSIONS)
    return node


def _results(comp: cst.CSTNode) -> list[cst.BaseExpression]:
    """What a comprehension evaluates per item: its element, or a dict's key and value."""
    if isinstance(comp, cst.DictComp):
        return [comp.key, comp.value]
    assert isinstance(comp, (cst.ListComp, cst.SetComp))
    return [comp.elt]


def _private_file(ctx: RuleContext, call: cst.Call, name: str) -> bool:
    """Whether ``name`` is bound by a ``with open(...) as name:`` around ``call``, in the
    function's own body, and mentioned nowhere else in the function."""
    if ctx.in_nested_scope(call) or uses_dynamic_scope(ctx.function):
        return False
    assert isinstance(call.func, cst.Attribute)
    receiver = call.func.value
    others = [use for use in variable_uses(ctx.function, name) if use is not receiver]
    if len(others) != 1:
        return False
    as_name = ctx.parents[others[0]]
    item = ctx.parents.get(as_name)
    with_statement = ctx.parents.get(item) if item is not None else None
    return (
        isinstance(as_name, cst.AsName)
        and isinstance(item, cst.WithItem)
        and isinstance(with_statement, cst.With)
        and with_statement in set(ctx.ancestors(call))
        and not ctx.in_nested_scope(with_statement)
        and m.matches(item.item, m.Call(func=m.Name("open")))
        and ctx.is_builtin("open", item.item)
    )


class _Exits(cst.CSTVisitor):
    """In a loop body: whether it may leave the loop early (``break`` out of this loop,
    ``return``) or hand control elsewhere (``yield``, ``await``); nested defs, lambdas and
    classes excluded."""

    def __init__(self) -> None:
        super().__init__()
        self.early = False
        self.suspends = False
        self._inner_loops = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, NESTED_SCOPES):
            return False
        if isinstance(node, (cst.For, cst.While)):
            # A ``break`` in an inner loop's body is that loop's; in its ``else``, this one's.
            heads = [node.target, node.iter] if isinstance(node, cst.For) else [node.test]
            for head in heads:
                head.visit(self)
            self._inner_loops += 1
            node.body.visit(self)
            self._inner_loops -= 1
            if node.orelse is not None:
                node.orelse.visit(self)
            return False
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not self._inner_loops):
            self.early = True
        elif isinstance(node, (cst.Yield, cst.Await)):
            self.suspends = True
        return True


def _file_of(call: cst.Call) -> cst.BaseExpression:
    """``f`` of ``f.readlines()``."""
    assert isinstance(call.func, cst.Attribute)
    return call.func.value

"""``re.search(r"...", s)`` in a loop → a pattern compiled once, at module level.

Each ``re.<fn>(pattern, ...)`` call looks the pattern up in the ``re`` module's cache (and
recompiles it once the cache overflows); a module-level ``re.compile`` does the work once.

Fires on calls ``re.<fn>(<str or bytes literal>, ...)`` for ``fn`` in compile, match, search,
fullmatch, findall, finditer, sub, subn and split that run in a ``for``/``while`` loop or a
comprehension of the target function (not in a nested def, class or lambda), when:

* the module has one top-level ``import re``, among the imports that open the file (the
  constants go right after those), and nothing else binds ``re`` at module level or in the
  function (so the name is that module);
* every argument after the pattern maps onto the compiled pattern's method: positional ones
  up to the method's own parameters (so never a positional ``flags``), keywords among the
  method's parameters, and an optional ``flags=`` made of ``re.X`` names joined by ``|``;
* the pattern compiles here, with those flags, without error or warning (compiling at import
  time must not fail where the original only failed when called), and ``re.DEBUG``, which
  prints while compiling, is not among the flags.

``re.compile(<literal>)`` itself becomes the constant. The constant is ``_<FUNCTION>_RE``
(made unique), one per distinct pattern and flags.
"""

from __future__ import annotations

import re
import warnings

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext
from agent.syntax import LOOPS, file_header, fresh_name, names_in, visible_bindings

# re.<fn> → (positional arguments after the pattern that the Pattern method takes in the same
# places, keyword arguments it accepts under the same names).
_METHODS: dict[str, tuple[int, frozenset[str]]] = {
    "compile": (0, frozenset()),
    "match": (1, frozenset({"string"})),
    "search": (1, frozenset({"string"})),
    "fullmatch": (1, frozenset({"string"})),
    "findall": (1, frozenset({"string"})),
    "finditer": (1, frozenset({"string"})),
    "sub": (3, frozenset({"repl", "string", "count"})),
    "subn": (3, frozenset({"repl", "string", "count"})),
    "split": (2, frozenset({"string", "maxsplit"})),
}

_RE_CALL = m.Call(func=m.Attribute(value=m.Name("re"), attr=m.Name()))


def _flag_value(node: cst.BaseExpression) -> int | None:
    """The value of ``re.I``, ``re.I | re.M``…, or ``None`` for anything else."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        left, right = _flag_value(node.left), _flag_value(node.right)
        return None if left is None or right is None else left | right
    if m.matches(node, m.Attribute(value=m.Name("re"), attr=m.Name())):
        assert isinstance(node, cst.Attribute)
        flag = getattr(re, node.attr.value, None)
        if isinstance(flag, re.RegexFlag) and flag != re.DEBUG:
            return int(flag)
    return None


def _compiles(pattern: str | bytes, flags: int) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(pattern, flags)
    except Exception:
        return False
    return True


def _is_flags(arg: cst.Arg) -> bool:
    return arg.keyword is not None and arg.keyword.value == "flags"


def _compile_call(call: cst.Call) -> cst.Call | None:
    """``re.compile(pattern[, flags])`` for a call the rule can hoist, else ``None``."""
    assert isinstance(call.func, cst.Attribute)
    method = _METHODS.get(call.func.attr.value)
    if method is None or not call.args:
        return None
    positional, keywords = method
    first, *rest = call.args
    pattern = first.value
    if (
        first.keyword
        or first.star
        or not isinstance(pattern, (cst.SimpleString, cst.ConcatenatedString))
    ):
        return None
    flags = next((a.value for a in rest if _is_flags(a)), None)
    others = [a for a in rest if not _is_flags(a)]
    if any(a.star for a in others) or sum(a.keyword is None for a in others) > positional:
        return None
    if any(a.keyword and a.keyword.value not in keywords for a in others):
        return None
    value = pattern.evaluated_value
    flag_value = 0 if flags is None else _flag_value(flags)
    if value is None or flag_value is None or not _compiles(value, flag_value):
        return None
    args = [cst.Arg(pattern)] + ([cst.Arg(flags)] if flags else [])
    return cst.Call(cst.Attribute(cst.Name("re"), cst.Name("compile")), args)


def _hoisted(call: cst.Call, constant: cst.Name) -> cst.BaseExpression:
    """``call`` on the compiled ``constant`` instead of on the ``re`` module."""
    assert isinstance(call.func, cst.Attribute)
    if call.func.attr.value == "compile":
        return constant.with_changes(lpar=call.lpar, rpar=call.rpar)
    others = [a for a in call.args[1:] if not _is_flags(a)]
    if others:  # the last argument keeps the original last comma (a trailing one, or none)
        others[-1] = others[-1].with_changes(comma=call.args[-1].comma)
    return call.with_changes(func=call.func.with_changes(value=constant), args=others)


_IMPORT_RE = m.SimpleStatementLine(
    [m.Import([m.ZeroOrMore(), m.ImportAlias(m.Name("re"), asname=None), m.ZeroOrMore()])]
)


def _re_imported(ctx: RuleContext) -> bool:
    """Whether the module has one top-level ``import re``, among the imports that open the file
    (so before the constants), and nothing else binds ``re`` where the function looks."""
    module = ctx.module
    imports = [s for s in module.body if m.matches(s, _IMPORT_RE)]
    if len(imports) != 1 or imports[0] not in file_header(module):
        return False
    others = module.with_changes(body=[s for s in module.body if s is not imports[0]])
    return not {"re", "*"} & visible_bindings(others, ctx.function)


class _Edit(cst.CSTTransformer):
    def __init__(self, constants: dict[cst.CSTNode, cst.Name]) -> None:
        self.constants = constants  # original call → the constant it now uses

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        constant = self.constants.get(original)
        return updated if constant is None else _hoisted(updated, constant)


class HoistRegex(FunctionRule):
    name = "hoist_regex"
    strategy = "repeated-work"
    summary = '`re.match(r"…", s)` in a loop → `_F_RE.match(s)`, with `_F_RE = re.compile(r"…")`'

    def candidate(self, function: cst.FunctionDef) -> bool:
        return bool(m.findall(function, _RE_CALL))

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        if not _re_imported(ctx):
            return None
        taken = names_in(ctx.module)
        stem = f"_{ctx.function.name.value.strip('_').upper()}_RE"
        names: dict[str, cst.Name] = {}  # code of the ``re.compile`` call → its constant
        lines: list[cst.SimpleStatementLine] = []
        constants: dict[cst.CSTNode, cst.Name] = {}
        for call in m.findall(ctx.function, _RE_CALL):
            assert isinstance(call, cst.Call)
            if ctx.in_nested_scope(call) or not any(
                isinstance(a, LOOPS) for a in ctx.ancestors(call)
            ):
                continue
            compiled = _compile_call(call)
            if compiled is None:
                continue
            key = ctx.module.code_for_node(compiled)
            if key not in names:
                names[key] = cst.Name(fresh_name(taken, stem))
                lines.append(
                    cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(names[key])], compiled)])
                )
            constants[call] = names[key]
        if not constants:
            return None
        lines[0] = lines[0].with_changes(leading_lines=[cst.EmptyLine()])
        ctx.add_statements(lines)
        return ctx.function.visit(_Edit(constants))  # type: ignore[return-value]

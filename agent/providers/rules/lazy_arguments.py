"""What the rules that make a list comprehension argument lazy share (``any_all_generator``,
``sum_list_to_generator``): the rewrite itself, and whether a call is to an allowed builtin.
Whether a rewrite is safe differs from rule to rule, and stays with each."""

from __future__ import annotations

import libcst as cst

from agent.providers.rules.base import RuleContext


def builtin_call(ctx: RuleContext, call: cst.Call, allowed: frozenset[str]) -> bool:
    """A call to one of the ``allowed`` builtins, by a name that is the builtin where it stands."""
    return (
        isinstance(call.func, cst.Name)
        and call.func.value in allowed
        and ctx.is_builtin(call.func.value, call)
    )


class ListArgumentToGenerator(cst.CSTTransformer):
    """Each of ``calls``' first argument, a list comprehension, made a generator expression:
    without brackets when it is the only argument, in parentheses beside others."""

    def __init__(self, calls: set[cst.Call]) -> None:
        super().__init__()
        self.calls = calls

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if original not in self.calls:
            return updated
        arg, *rest = updated.args
        comp = arg.value
        assert isinstance(comp, cst.ListComp)
        if rest:
            # Beside other arguments a generator needs parentheses: the brackets become them.
            generator = cst.GeneratorExp(
                elt=comp.elt,
                for_in=comp.for_in,
                lpar=[*comp.lpar, cst.LeftParen(whitespace_after=comp.lbracket.whitespace_after)],
                rpar=[
                    cst.RightParen(whitespace_before=comp.rbracket.whitespace_before),
                    *comp.rpar,
                ],
            )
            return updated.with_changes(args=[arg.with_changes(value=generator), *rest])
        # As the only argument, and with no trailing comma, a generator needs no parentheses.
        generator = cst.GeneratorExp(elt=comp.elt, for_in=comp.for_in, lpar=[], rpar=[])
        arg = arg.with_changes(
            value=generator,
            comma=cst.MaybeSentinel.DEFAULT,
            whitespace_after_arg=_layout(arg.whitespace_after_arg, comp.rbracket.whitespace_before),
        )
        before = _layout(updated.whitespace_before_args, comp.lbracket.whitespace_after)
        return updated.with_changes(whitespace_before_args=before, args=[arg])


def _layout(
    outer: cst.BaseParenthesizableWhitespace, inner: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """Keep the line breaks of a multi-line comprehension's brackets on the call's parentheses."""
    return inner if isinstance(inner, cst.ParenthesizedWhitespace) else outer

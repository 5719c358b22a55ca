"""``k in d.keys()`` → ``k in d``: the same test without building a keys view."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from agent.providers.rules.base import FunctionRule, RuleContext

_KEYS_CALL = m.Call(func=m.Attribute(attr=m.Name("keys")), args=[])


class _DropKeys(cst.CSTTransformer):
    def leave_ComparisonTarget(
        self, original: cst.ComparisonTarget, updated: cst.ComparisonTarget
    ) -> cst.ComparisonTarget:
        pattern = m.ComparisonTarget(operator=m.In() | m.NotIn(), comparator=_KEYS_CALL)
        if m.matches(updated, pattern):
            call = updated.comparator
            assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            return updated.with_changes(comparator=call.func.value)
        return updated


class DictKeysMembership(FunctionRule):
    name = "dict_keys_membership"
    strategy = "data-structure"
    summary = "`k in d.keys()` → `k in d`"

    def rewrite(self, ctx: RuleContext) -> cst.FunctionDef | None:
        return ctx.function.visit(_DropKeys())  # type: ignore[return-value]

"""The offline provider: every catalogue rule that fires is a candidate."""

from __future__ import annotations

import libcst as cst

from agent.domain import Candidate
from agent.providers.base import NEEDS, Need, ProposalRequest, candidate_id
from agent.providers.rules.base import Rule


class RulesProvider:
    """One candidate per rule that fires, plus all of them together when several do."""

    name = "rules"

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules

    def propose(self, request: ProposalRequest) -> list[Candidate]:
        target, limit = request.target, request.limit
        module = cst.parse_module(request.file_source)
        qualname = target.ref.qualname
        fired: list[tuple[Rule, cst.Module]] = []
        for rule in self.rules:
            rewritten = rule.apply(module, qualname)
            if rewritten is not None:
                fired.append((rule, rewritten))
        proposals = [([rule], new.code) for rule, new in fired]
        if len(fired) > 1:
            combined, used = module, list[Rule]()
            for rule, _ in fired:  # each rule again, on the previous one's output
                rewritten = rule.apply(combined, qualname)
                if rewritten is not None:
                    combined, used = rewritten, [*used, rule]
            if len(used) > 1:
                proposals.insert(0, (used, combined.code))
        candidates: dict[str, Candidate] = {}
        for rules, code in proposals:
            ident = candidate_id(target, code)
            candidates.setdefault(
                ident,
                Candidate(
                    id=ident,
                    target=target.ref,
                    provider=self.name,
                    files={target.ref.path: code},
                    summary="+".join(rule.name for rule in rules),
                    provenance=_needs(rules),
                    strategy="+".join(dict.fromkeys(rule.strategy for rule in rules)),
                ),
            )
        return list(candidates.values())[:limit]


def _needs(rules: list[Rule]) -> dict[str, object]:
    """The provenance that declares what the rules need of the real calls, if anything."""
    needs = [
        Need(rule.name, min_items).as_json()
        for rule in rules
        if (min_items := getattr(rule, "min_items", 0))
    ]
    return {NEEDS: needs} if needs else {}

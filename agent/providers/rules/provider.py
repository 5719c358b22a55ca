"""The offline provider: every catalogue rule that fires is a candidate."""

from __future__ import annotations

import libcst as cst

from agent.domain import Candidate
from agent.providers.base import ProposalRequest, candidate_id
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
        proposals = [(rule.name, new.code) for rule, new in fired]
        if len(fired) > 1:
            combined, names = module, list[str]()
            for rule, _ in fired:  # each rule again, on the previous one's output
                rewritten = rule.apply(combined, qualname)
                if rewritten is not None:
                    combined, names = rewritten, [*names, rule.name]
            if len(names) > 1:
                proposals.insert(0, ("+".join(names), combined.code))
        candidates: dict[str, Candidate] = {}
        for summary, code in proposals:
            ident = candidate_id(target, code)
            candidates.setdefault(
                ident,
                Candidate(
                    id=ident,
                    target=target.ref,
                    provider=self.name,
                    files={target.ref.path: code},
                    summary=summary,
                ),
            )
        return list(candidates.values())[:limit]

"""A provider backed by a chat model: prompt → request (cached, retried, paid for) → edits."""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from agent.domain import Candidate
from agent.errors import UsageError
from agent.providers.base import ProposalRequest, ProviderFailed, TargetSkipped, candidate_id
from agent.providers.cache import ResponseCache
from agent.providers.chat import (
    ChatClient,
    ChatRequest,
    Completion,
    Retryable,
    Unauthorized,
)
from agent.providers.patching import PatchError, apply_reply
from agent.providers.prompting import (
    Prompt,
    PromptBudgetError,
    PromptContext,
    build_prompt,
    template_digest,
    unit_in_view,
)
from agent.providers.strategies import Strategy, assign, named_in, strategies
from agent.providers.usage import Ledger
from agent.syntax import normalized

if TYPE_CHECKING:
    from agent.providers.replies import ReplyLog


@dataclass(frozen=True)
class ModelSettings:
    model: str
    temperature: float = 0.2
    max_tokens: int = 2048
    max_prompt_tokens: int = 6000
    context_window: int | None = None
    seed: int | None = None
    max_attempts: int = 6
    max_retry_seconds: float = 300.0
    strategies: str = "varied"  # or "single" (agent/providers/strategies.py)


class ReplyStore(Protocol):
    """Where earlier replies are looked up by key: the response cache, or a replay's log."""

    def get(self, key: str) -> Completion | None: ...

    def put(self, key: str, completion: Completion) -> None: ...


class ModelProvider:
    """Asks ``client`` for ``limit`` completions per round and turns each into a candidate:
    one request per candidate, each for another strategy (``varied``), or one request for all
    (``single``).

    A reply that cannot be applied still becomes a candidate, with its ``problem`` set, so
    the report (and the next round's prompt) says why it was rejected.

    ``log`` records every completion used, fresh or cached (``--record-replies``). A replay
    (``replies.py``) is a ``ModelProvider`` named ``replay`` whose ``origin`` is the recorded
    provider (which the cache keys and the log name), asking ``n`` replies per request as
    recorded per request.
    """

    def __init__(
        self,
        name: str,
        client: ChatClient,
        settings: ModelSettings,
        ledger: Ledger,
        cache: ReplyStore | None = None,
        endpoint: str | None = None,
        *,
        log: ReplyLog | None = None,
        origin: str | None = None,
        n: int | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.settings = settings
        self.ledger = ledger
        self.cache = cache
        self.endpoint = endpoint
        self.log = log
        self.origin = origin or name
        self.n = n

    def propose(self, request: ProposalRequest) -> list[Candidate]:
        """``request.limit`` candidates: in ``varied`` mode one request per candidate, each
        asking for its own strategy; in ``single`` mode one request for all of them, each
        reply naming the strategy it chose."""
        if self.settings.strategies == "single":
            return self._ask(request, None, self.n or request.limit, len(request.history))
        candidates: dict[str, Candidate] = {}
        failed: ProviderFailed | None = None
        start = request.round_number * request.limit  # each round goes on to the next ones
        for strategy in assign(start, request.limit, objective=request.objective):
            numbered = len(request.history) + len(candidates)
            try:
                answered = self._ask(request, strategy, self.n or 1, numbered)
            except ProviderFailed as error:  # the other strategies' answers still count
                failed = failed or error
                continue
            for candidate in answered:
                candidates.setdefault(candidate.id, candidate)  # the same code judged once
        if failed is not None and not candidates:
            raise failed
        return list(candidates.values())

    def _ask(
        self, request: ProposalRequest, strategy: Strategy | None, n: int, numbered: int
    ) -> list[Candidate]:
        """``n`` completions of one prompt, each turned into a candidate numbered after the
        ``numbered`` earlier ones."""
        if self.ledger.exhausted:
            raise ProviderFailed(f"budget of ${self.ledger.budget_usd} spent")
        target = request.target
        prompt = self._prompt(request, strategy)
        system, user = (m["content"] for m in prompt.messages)
        chat = ChatRequest(
            self.settings.model,
            system,
            user,
            n,
            self.settings.temperature,
            self.settings.max_tokens,
            self.settings.seed,
        )
        key = self._cache_key(request, chat, strategy)
        completion, cached, cost = self._complete(chat, key)
        if self.log is not None:
            self._record(key, str(target.ref), chat, completion, cached, cost)
        provenance = {
            "model": self.settings.model,
            "prompt_tokens": prompt.tokens,
            "prompt_tokens_estimated": prompt.estimated,
            "prompt_sections": prompt.sections,
            "prompt_sha256": _sha(system + "\0" + user),
            # Of the whole request, which may have produced several candidates:
            "request_input_tokens": completion.input_tokens,
            "request_output_tokens": completion.output_tokens,
            "request_cost_usd": round(cost, 6),
            "cached": cached,
        }
        candidates: dict[str, Candidate] = {}
        for reply in completion.texts:
            summary = f"{self.settings.model} #{numbered + len(candidates) + 1}"
            details = {**provenance, "reply_sha256": _sha(reply), "reply": reply}
            label = strategy.name if strategy is not None else named_in(reply)
            try:
                new_source = apply_reply(reply, request.file_source, target.ref.qualname, unit=True)
            except PatchError as error:
                key = "problem:" + _sha(reply)
                problem = str(error)
                candidates.setdefault(
                    key,
                    Candidate(key[8:18], target.ref, self.name, {}, summary, problem, details,
                              label),
                )  # fmt: skip
                continue
            # The id comes from the normalised code: the same code formatted differently is
            # judged once, in this round and in later ones.
            key = normalized(new_source)
            candidates.setdefault(
                key,
                Candidate(
                    candidate_id(target, key),
                    target.ref,
                    self.name,
                    {target.ref.path: new_source},
                    summary,
                    None,
                    details,
                    label,
                ),
            )
        return list(candidates.values())

    def _prompt(self, request: ProposalRequest, strategy: Strategy | None) -> Prompt:
        """The prompt for the request; a target too big for the budget is skipped, not fatal."""
        assert request.repo_root is not None, "model prompts quote the tests from the repo"
        context = PromptContext(
            request.target,
            request.file_source,
            request.repo_root,
            request.tests,
            request.history,
            strategy=strategy,
            strategies=strategies(request.objective) if strategy is None else (),
            objective=request.objective,
            unit=_unit(request),
        )
        try:
            return build_prompt(
                context,
                model=self.settings.model,
                max_prompt_tokens=self.settings.max_prompt_tokens,
                context_window=self.settings.context_window,
                max_output_tokens=self.settings.max_tokens,
            )
        except PromptBudgetError as error:
            raise TargetSkipped(
                f"the function alone takes {error.tokens} tokens, over the prompt budget of "
                f"{error.budget} (raise --max-prompt-tokens or --context-window)"
            ) from None

    def _cache_key(
        self, request: ProposalRequest, chat: ChatRequest, strategy: Strategy | None
    ) -> str:
        """The same question about the same code gets the cached answer.

        The key holds the endpoint, model, parameters, templates, the strategy asked for (if
        any), the target's file, its
        tests and the earlier candidates with their verdicts, but not the profile's timings
        that the prompt also quotes: those differ on every run, and a rerun should be free.
        """
        return ResponseCache.key({
            "provider": self.origin, "endpoint": self.endpoint,
            "parameters": {**asdict(chat), "system": None, "user": None},
            "templates": template_digest(request.objective, _unit(request)),
            "strategy": None if strategy is None else strategy.name,
            "target": str(request.target.ref), "file": request.file_source,
            "tests": request.tests,
            "history": [(o.candidate.id, o.verdict.stage, o.verdict.accepted)
                        for o in request.history],
        })  # fmt: skip

    def _complete(self, chat: ChatRequest, key: str) -> tuple[Completion, bool, float]:
        """The completion (from the cache when it has it), whether it was cached, its cost."""
        if self.cache and (hit := self.cache.get(key)) is not None:
            self.ledger.cache_hit()
            return hit, True, 0.0
        try:
            completion = self._retrying()(self.client.complete, chat)
        except Unauthorized as error:
            raise UsageError(str(error)) from None
        except Retryable as error:
            raise ProviderFailed(f"gave up after retries: {error}") from None
        cost = self.ledger.charge(
            chat.model,
            completion.input_tokens,
            completion.output_tokens,
            completion.cached_tokens,
            completion.requests,
        )
        if self.cache:
            self.cache.put(key, completion)
        return completion, False, cost

    def _record(
        self,
        key: str,
        target: str,
        chat: ChatRequest,
        completion: Completion,
        cached: bool,
        cost: float,
    ) -> None:
        """Append the completion to the reply log, with what the model charges for it (also
        when this run took it from the cache, and so paid nothing)."""
        assert self.log is not None
        if cached:
            priced = self.ledger.cost_of(
                chat.model,
                completion.input_tokens,
                completion.output_tokens,
                completion.cached_tokens,
            )
            cost = priced or 0.0
        self.log.append(
            provider=self.origin,
            endpoint=self.endpoint,
            settings=self.settings,
            n=chat.n,
            key=key,
            target=target,
            completion=completion,
            cost_usd=cost,
            cached=cached,
        )

    def _retrying(self) -> Retrying:
        backoff = wait_exponential_jitter(initial=1, max=30)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            hinted = getattr(error, "retry_after", None)
            # The server's Retry-After wins, with a little jitter so parallel runs spread out.
            return hinted + random.uniform(0, 0.1) if hinted is not None else backoff(state)

        def note(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            self.ledger.retried(f"attempt {state.attempt_number}: {error}")

        return Retrying(
            retry=retry_if_exception_type(Retryable),
            wait=wait,
            stop=stop_after_attempt(self.settings.max_attempts)
            | stop_after_delay(self.settings.max_retry_seconds),
            before_sleep=note,
            reraise=True,
        )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _unit(request: ProposalRequest) -> bool:
    """Whether the request's prompt offers the unit scope (``prompting.unit_in_view``)."""
    return unit_in_view(request.file_source, request.target.ref.qualname, request.objective)

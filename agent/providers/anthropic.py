"""The Messages API through the official ``anthropic`` SDK (``ANTHROPIC_BASE_URL`` honoured).

The API has no ``n``: several completions are several requests.
"""

from __future__ import annotations

import anthropic

from agent.providers.chat import (
    ChatRequest,
    Completion,
    Retryable,
    http_fault,
)


class AnthropicChat:
    def __init__(self, api_key: str, base_url: str | None, timeout: float) -> None:
        self.client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self.endpoint = str(self.client.base_url)

    def complete(self, request: ChatRequest) -> Completion:
        texts: list[str] = []
        input_tokens = output_tokens = cached = 0
        for _ in range(request.n):
            message = self._one(request)
            texts.append("".join(b.text for b in message.content if b.type == "text"))
            input_tokens += message.usage.input_tokens
            output_tokens += message.usage.output_tokens
            cached += message.usage.cache_read_input_tokens or 0
        return Completion(texts, input_tokens, output_tokens, cached, requests=request.n)

    def _one(self, request: ChatRequest) -> anthropic.types.Message:
        try:
            return self.client.messages.create(
                model=request.model,
                system=request.system,
                messages=[{"role": "user", "content": request.user}],
                max_tokens=request.max_tokens,
                # No temperature: the Messages API of SDK 2.x no longer takes one.
            )
        except anthropic.APIStatusError as error:
            raise http_fault(
                "anthropic", error.status_code, error.body, error.message, error.response.headers
            ) from None
        except (anthropic.APITimeoutError, anthropic.APIConnectionError) as error:
            raise Retryable(type(error).__name__) from None
        except (anthropic.AnthropicError, ValueError) as error:  # ValueError: a body not JSON
            raise Retryable(f"bad response: {type(error).__name__}") from None

"""The Messages API through the official ``anthropic`` SDK (``ANTHROPIC_BASE_URL`` honoured).

The API has no ``n``: several completions are several requests.
"""

from __future__ import annotations

import anthropic

from agent.providers.chat import (
    ChatRequest,
    Completion,
    ProviderFailed,
    Retryable,
    Unauthorized,
    retry_after_seconds,
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
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as error:
            raise Unauthorized(f"anthropic: {error.status_code} {_message(error)}") from None
        except anthropic.APIStatusError as error:
            if error.status_code in (408, 409, 429) or error.status_code >= 500:
                raise Retryable(
                    f"{error.status_code} {_message(error)}",
                    retry_after_seconds(error.response.headers),
                ) from None
            raise ProviderFailed(f"anthropic: {error.status_code} {_message(error)}") from None
        except (anthropic.APITimeoutError, anthropic.APIConnectionError) as error:
            raise Retryable(type(error).__name__) from None
        except (anthropic.AnthropicError, ValueError) as error:  # ValueError: a body not JSON
            raise Retryable(f"bad response: {type(error).__name__}") from None


def _message(error: anthropic.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:200]
    return error.message[:200]

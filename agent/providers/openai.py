"""Chat Completions through the official ``openai`` SDK: OpenAI, and any compatible server
(vLLM, Ollama, llama.cpp server, LM Studio) through ``--base-url`` or ``OPENAI_BASE_URL``."""

from __future__ import annotations

import openai

from agent.providers.chat import (
    ChatRequest,
    Completion,
    Retryable,
    http_fault,
)


class OpenAIChat:
    def __init__(self, api_key: str, base_url: str | None, timeout: float) -> None:
        # Retries are ours (they honour Retry-After and are counted in the report).
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self.endpoint = str(self.client.base_url)

    def complete(self, request: ChatRequest) -> Completion:
        try:
            response = self.client.chat.completions.create(
                model=request.model,
                messages=[
                    {"role": "system", "content": request.system},
                    {"role": "user", "content": request.user},
                ],
                n=request.n,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=request.seed,
            )
        except openai.APIStatusError as error:
            raise http_fault(
                "openai", error.status_code, error.body, error.message, error.response.headers
            ) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as error:
            raise Retryable(type(error).__name__) from None
        except openai.APIResponseValidationError as error:
            raise Retryable(f"malformed response: {error}") from None
        except (openai.OpenAIError, ValueError) as error:  # ValueError: a body that is not JSON
            raise Retryable(f"bad response: {type(error).__name__}") from None
        usage = response.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        return Completion(
            texts=[choice.message.content or "" for choice in response.choices],
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
        )

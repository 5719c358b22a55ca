"""The small interface between a model provider and a chat API (OpenAI, Anthropic, local)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.providers.base import ProviderFailed


@dataclass(frozen=True)
class ChatRequest:
    model: str
    system: str
    user: str
    n: int  # completions wanted
    temperature: float
    max_tokens: int
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    texts: list[str]
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    requests: int = 1  # HTTP requests it took (APIs without ``n`` make one per text)


class ChatClient(Protocol):
    """Sends one request; raises :class:`Retryable` or :class:`Unauthorized` on faults."""

    def complete(self, request: ChatRequest) -> Completion: ...


class Retryable(Exception):
    """A fault worth retrying: rate limit, overload, 5xx, timeout, lost connection."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(Exception):
    """The key is missing, wrong or not allowed: retrying cannot help."""


def http_fault(
    provider: str, status: int, body: object, fallback: str, headers: object
) -> Exception:
    """The exception for an HTTP error status: retry it, stop the run, or give up on it."""
    inner = body.get("error", body) if isinstance(body, dict) else None
    message = (
        str(inner["message"]) if isinstance(inner, dict) and inner.get("message") else fallback
    )
    described = f"{provider}: {status} {message[:200]}"
    if status in (401, 403):
        return Unauthorized(described)
    if status in (408, 409, 429) or status >= 500:
        return Retryable(described, retry_after_seconds(headers))
    return ProviderFailed(described)


def retry_after_seconds(headers: object) -> float | None:
    """The Retry-After header in seconds, if the server sent one as a number."""
    get = getattr(headers, "get", None)
    value = get("retry-after") if get else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None

"""Where candidates come from. A new provider is one module and one line in ``PROVIDERS``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import RunConfig
from agent.errors import UsageError
from agent.providers.base import Provider
from agent.providers.chat import ChatClient
from agent.providers.usage import Ledger

if TYPE_CHECKING:
    from agent.providers.replies import ReplyLog


def _rules(config: RunConfig, ledger: Ledger) -> Provider:
    from agent.providers.rules import MEMORY_RULES, RULES
    from agent.providers.rules.provider import RulesProvider

    # The memory rules make nothing faster, and the speed rules (a cache, a set of a list)
    # often take more memory: each objective gets its own catalogue.
    by_objective = {"time": RULES, "memory": MEMORY_RULES, "both": (*MEMORY_RULES, *RULES)}
    return RulesProvider(by_objective[config.objective])


def _openai(config: RunConfig, ledger: Ledger) -> Provider:
    from agent.providers.openai import OpenAIChat

    base_url = config.base_url or os.environ.get("OPENAI_BASE_URL")
    # A local OpenAI-compatible server (Ollama, vLLM, llama.cpp) usually wants no key.
    key = api_key(config, "OPENAI_API_KEY", required=base_url is None) or "not-needed"
    client = OpenAIChat(key, base_url, config.request_timeout)
    return _model_provider("openai", client, client.endpoint, "gpt-4.1-mini", config, ledger)


def _anthropic(config: RunConfig, ledger: Ledger) -> Provider:
    from agent.providers.anthropic import AnthropicChat

    base_url = config.base_url or os.environ.get("ANTHROPIC_BASE_URL")
    key = api_key(config, "ANTHROPIC_API_KEY", required=True)
    assert key is not None
    client = AnthropicChat(key, base_url, config.request_timeout)
    return _model_provider(
        "anthropic", client, client.endpoint, "claude-sonnet-4-5", config, ledger
    )


def _local(config: RunConfig, ledger: Ledger) -> Provider:
    from agent.providers.local import HINT, LocalChat, context_size, find_model

    path = find_model(str(config.model_path) if config.model_path else config.model)
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise UsageError(f"llama-cpp-python is not installed: {HINT}") from None
    n_ctx = context_size(config.context_window, config.max_prompt_tokens, config.max_tokens)
    client = LocalChat(path, n_ctx, config.seed)
    model = f"local:{path.name}"
    settings = config.model_copy(update={"model": None, "context_window": n_ctx})
    return _model_provider("local", client, client.endpoint, model, settings, ledger)


def _replay(config: RunConfig, ledger: Ledger) -> Provider:
    from agent.providers.replies import replay_provider

    if config.replies is None:
        raise UsageError("--provider replay needs --replies FILE (written by --record-replies)")
    return replay_provider(config.replies, ledger, _reply_log(config))


def _neutral(config: RunConfig, ledger: Ledger) -> Provider:
    from agent.providers.neutral import NeutralProvider

    return NeutralProvider()


PROVIDERS: dict[str, Callable[[RunConfig, Ledger], Provider]] = {
    "rules": _rules,
    "openai": _openai,
    "anthropic": _anthropic,
    "local": _local,
    "replay": _replay,
    "neutral": _neutral,  # a measurement probe (evals/realrepos), not an optimizer
}


def make_provider(config: RunConfig, ledger: Ledger) -> Provider:
    factory = PROVIDERS.get(config.provider)
    if factory is None:
        known = ", ".join(PROVIDERS)
        raise UsageError(f"unknown provider {config.provider!r} (known: {known})")
    if config.replies is not None and config.provider != "replay":
        raise UsageError("--replies is for --provider replay")
    provider = factory(config, ledger)
    if config.record_replies is not None and getattr(provider, "log", None) is None:
        raise UsageError(f"--record-replies: the {config.provider} provider asks no model")
    return provider


def api_key(config: RunConfig, variable: str, *, required: bool) -> str | None:
    """The key from the environment, else from ``--key-file`` (``NAME=value`` lines).

    Keys are only ever handed to the SDK client: never printed, logged or reported, and the
    sandbox's allow-listed environment keeps them from candidate code.
    """
    key = os.environ.get(variable)
    if not key and config.key_file is not None:
        key = _read_key_file(config.key_file).get(variable)
    if not key and required:
        raise UsageError(f"{variable} is not set (export it, or name a file with --key-file)")
    return key or None


def _read_key_file(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise UsageError(f"--key-file {path}: {error.strerror}") from None
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {
        name.strip().removeprefix("export "): value.strip().strip("'\"") for name, value in pairs
    }


def _model_provider(
    name: str,
    client: ChatClient,
    endpoint: str,
    default_model: str,
    config: RunConfig,
    ledger: Ledger,
) -> Provider:
    from agent.providers.cache import ResponseCache, default_cache_dir
    from agent.providers.model import ModelProvider, ModelSettings

    settings = ModelSettings(
        model=config.model or default_model,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        max_prompt_tokens=config.max_prompt_tokens,
        context_window=config.context_window,
        seed=config.seed,
        max_attempts=config.max_attempts,
        max_retry_seconds=config.max_retry_seconds,
        strategies=config.strategies,
    )
    cache = ResponseCache(config.cache_dir or default_cache_dir()) if config.cache else None
    log = _reply_log(config)
    return ModelProvider(name, client, settings, ledger, cache, endpoint, log=log)


def _reply_log(config: RunConfig) -> ReplyLog | None:
    from agent.providers.replies import ReplyLog

    return ReplyLog(config.record_replies) if config.record_replies is not None else None

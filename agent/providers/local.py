"""A GGUF model run in this process with llama-cpp-python: no server, no key, no cost.

``scripts/get-local-model`` builds llama-cpp-python into .venv and fetches a model into
:func:`models_dir`; ``--model PATH.gguf`` or ``EVOLVER_MODEL_PATH`` names another one.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from agent.errors import UsageError
from agent.providers.base import ProviderFailed
from agent.providers.chat import ChatRequest, Completion

# What scripts/get-local-model fetches, preferred first.
MODEL_FILES = ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
HINT = "run scripts/get-local-model (or pass --model-path PATH.gguf)"
# Qwen2.5-Coder is trained for 32K tokens; more context only costs memory for the KV cache.
MAX_CONTEXT = 32768


def models_dir() -> Path:
    """Where scripts/get-local-model keeps models (outside any repository)."""
    if os.environ.get("EVOLVER_MODELS"):
        return Path(os.environ["EVOLVER_MODELS"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "evolver" / "models"


def find_model(model: str | None) -> Path:
    """``model`` when it names a .gguf file, else ``EVOLVER_MODEL_PATH``, else the largest
    model scripts/get-local-model fetched; a UsageError when there is none."""
    if model and model.endswith(".gguf"):
        chosen = Path(model).expanduser()
    elif os.environ.get("EVOLVER_MODEL_PATH"):
        chosen = Path(os.environ["EVOLVER_MODEL_PATH"]).expanduser()
    else:
        fetched = [models_dir() / name for name in MODEL_FILES]
        chosen = next((path for path in fetched if path.is_file()), fetched[0])
        if not chosen.is_file():
            raise UsageError(f"no local model: {HINT}")
    if not chosen.is_file():
        raise UsageError(f"no local model at {chosen}: {HINT}")
    return chosen.resolve()


def context_size(context_window: int | None, max_prompt_tokens: int, max_tokens: int) -> int:
    """Tokens of context to allocate: the prompt (counted with tiktoken, so with a margin
    for the model's own tokenizer) plus the reply; at least 8192."""
    if context_window is not None:
        return min(context_window, MAX_CONTEXT)
    return min(MAX_CONTEXT, max(8192, max_prompt_tokens * 5 // 4 + max_tokens))


class LocalChat:
    """The :class:`~agent.providers.chat.ChatClient` of a GGUF model, loaded on first use.

    llama.cpp answers one prompt at a time, so ``n`` completions are ``n`` generations in
    turn (the prompt is evaluated once: llama-cpp-python reuses the common prefix), each
    with its own seed. At temperature 0 decoding is greedy and every completion would be the
    same, so one generation answers for all ``n``.
    """

    def __init__(
        self, model_path: Path, n_ctx: int, seed: int | None, threads: int | None = None
    ) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.seed = seed
        self.threads = threads or os.cpu_count() or 1
        self.endpoint = f"llama.cpp:{model_path.name}"
        self._llama: Any = None
        self._lock = threading.Lock()  # one llama context: one generation at a time

    def _load(self) -> Any:
        if self._llama is None:
            import llama_cpp

            try:
                self._llama = llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.threads,
                    seed=llama_cpp.LLAMA_DEFAULT_SEED if self.seed is None else self.seed,
                    verbose=False,
                )
            except ValueError as error:  # "Failed to load model from file": not a GGUF model
                raise UsageError(f"cannot load {self.model_path}: {error}; {HINT}") from None
        return self._llama

    def complete(self, request: ChatRequest) -> Completion:
        messages = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
        runs = 1 if request.temperature == 0 else request.n
        texts: list[str] = []
        input_tokens = output_tokens = 0
        with self._lock:
            llama = self._load()
            for i in range(runs):
                try:
                    response = llama.create_chat_completion(
                        messages=messages,
                        temperature=request.temperature,
                        max_tokens=request.max_tokens,
                        seed=None if request.seed is None else request.seed + i,
                    )
                except ValueError as error:  # the prompt does not fit the context
                    raise ProviderFailed(f"local: {error}") from None
                except RuntimeError as error:  # llama.cpp failed to decode
                    raise ProviderFailed(f"local: {type(error).__name__}: {error}") from None
                texts.append(response["choices"][0]["message"]["content"] or "")
                usage = response.get("usage") or {}
                input_tokens += usage.get("prompt_tokens", 0)
                output_tokens += usage.get("completion_tokens", 0)
        if runs < request.n:
            texts *= request.n
        return Completion(texts, input_tokens, output_tokens, requests=runs)

"""Model replies on record, and the ``replay`` provider that serves them again for nothing.

``--record-replies FILE`` appends one JSON line per completion a model run used (fresh or from
the cache); every line says what produced it, so that runs can share a file:

    {"format": "evolver-replies/1", "provider": "openai", "endpoint": "https://...",
     "settings": {"model": "gpt-4.1-mini", "temperature": 0.2, ...}, "n": 4,
     "key": "<sha256>", "target": "pkg/core.py::count_known",
     "completion": {"texts": ["..."], "input_tokens": 1000, "output_tokens": 200,
                    "cached_tokens": 0, "requests": 1},
     "cost_usd": 0.00072, "cached": false}

``key`` is the request's cache key (``ModelProvider._cache_key``), which leaves out the
profile's timings: the same question in a later run has the same key. ``cost_usd`` is what the
model charges for the reply, also when the recording run took it from its cache.

``--provider replay --replies FILE`` rebuilds the recorded provider's settings and serves the
recorded replies as cache hits; a request nobody recorded (the run went another way) fails with
:class:`ProviderFailed`, which the loop notes before going on. No key, no network.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from agent.errors import UsageError
from agent.providers.base import ProviderFailed
from agent.providers.chat import ChatRequest, Completion
from agent.providers.model import ModelProvider, ModelSettings
from agent.providers.usage import Ledger

FORMAT = "evolver-replies/1"


class ReplyLog:
    """Appends reply records to ``path``. Each line is one ``write`` to a file opened for
    appending, under a lock: lines from threads never interleave (nor, on a local file
    system, lines from other runs appending to the same file)."""

    def __init__(self, path: Path) -> None:
        self.path = path.absolute()  # appended to later, whatever the working directory then
        self._lock = threading.Lock()
        try:  # fail now, not after an hour of paid requests
            os.close(self._open())
        except OSError as error:
            raise UsageError(f"--record-replies {path}: {error.strerror}") from None

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(
        self,
        *,
        provider: str,
        endpoint: str | None,
        settings: ModelSettings,
        n: int,
        key: str,
        target: str,
        completion: Completion,
        cost_usd: float,
        cached: bool,
    ) -> None:
        record = {
            "format": FORMAT, "provider": provider, "endpoint": endpoint,
            "settings": asdict(settings), "n": n, "key": key, "target": target,
            "completion": asdict(completion), "cost_usd": round(cost_usd, 8), "cached": cached,
        }  # fmt: skip
        data = memoryview((json.dumps(record) + "\n").encode())
        with self._lock:
            fd = self._open()
            try:
                while data:  # a regular file takes it whole; loop in case it does not
                    data = data[os.write(fd, data) :]
            finally:
                os.close(fd)


@dataclass(frozen=True)
class Replies:
    """A reply log as read back: who produced it, and the first reply recorded per key."""

    path: Path
    provider: str
    endpoint: str | None
    settings: ModelSettings
    n: int
    by_key: dict[str, tuple[Completion, float]]  # key → (completion, its cost)


def read_replies(path: Path) -> Replies:
    """The log at ``path``; a UsageError naming the file when it is not one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise UsageError(f"--replies {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--replies {path}: not a reply log (not UTF-8 text)") from None
    producer: tuple[str, str | None, ModelSettings, int] | None = None
    by_key: dict[str, tuple[Completion, float]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            provider, endpoint, settings, n, key, completion, cost = _parse(line)
        except (ValueError, TypeError, KeyError) as error:
            reason = f"no {error}" if isinstance(error, KeyError) else str(error)
            raise UsageError(
                f"--replies {path}: line {number} is not a reply record ({reason})"
            ) from None
        if producer is None:
            producer = (provider, endpoint, settings, n)
        elif _made_by(provider, endpoint, settings, n) != _made_by(*producer):
            raise UsageError(
                f"--replies {path}: line {number} comes from another provider, endpoint, model "
                f"or settings than the first; replay one run's replies at a time"
            )
        by_key.setdefault(key, (completion, cost))
    if producer is None:
        raise UsageError(f"--replies {path}: no replies in it")
    return Replies(path, *producer, by_key)


def _made_by(
    provider: str, endpoint: str | None, settings: ModelSettings, n: int
) -> tuple[object, ...]:
    """What enters the cache keys besides the question itself."""
    s = settings
    return (provider, endpoint, s.model, s.temperature, s.max_tokens, s.seed, s.strategies, n)


def _parse(line: str) -> tuple[str, str | None, ModelSettings, int, str, Completion, float]:
    try:
        record = json.loads(line)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"format is not {FORMAT!r}")
    settings = record["settings"]
    completion = record["completion"]
    if not isinstance(settings, dict) or not isinstance(completion, dict):
        raise TypeError("settings and completion must be objects")
    known = {f.name for f in fields(ModelSettings)}  # a newer log may say more
    parsed = Completion(**completion)
    if not (isinstance(parsed.texts, list) and all(isinstance(t, str) for t in parsed.texts)):
        raise TypeError("completion texts must be a list of strings")
    if not all(isinstance(v, int) for v in (parsed.input_tokens, parsed.output_tokens)):
        raise TypeError("token counts must be integers")
    provider, endpoint, n, key = (record[k] for k in ("provider", "endpoint", "n", "key"))
    if not all(isinstance(v, str) for v in (provider, key, settings.get("model"))):
        raise TypeError("provider, key and settings.model must be strings")
    if not isinstance(n, int):
        raise TypeError("n must be an integer")
    return (
        provider,
        endpoint,
        ModelSettings(**{k: v for k, v in settings.items() if k in known}),
        n,
        key,
        parsed,
        float(record.get("cost_usd") or 0.0),
    )


class ReplayStore:
    """The recorded replies as a read-only cache: a hit costs nothing now, and the ledger
    notes what it cost when it was recorded."""

    def __init__(self, replies: Replies, ledger: Ledger) -> None:
        self.replies = replies
        self.ledger = ledger

    def get(self, key: str) -> Completion | None:
        found = self.replies.by_key.get(key)
        if found is None:
            return None
        completion, cost = found
        self.ledger.replayed(completion.input_tokens, completion.output_tokens, cost)
        return completion

    def put(self, key: str, completion: Completion) -> None:
        pass  # never called: the client below has nothing to add


class Unrecorded:
    """The client of a replay: every request that reaches it was not recorded."""

    def complete(self, request: ChatRequest) -> Completion:
        raise ProviderFailed("no recorded reply for this request")


def replay_provider(path: Path, ledger: Ledger, log: ReplyLog | None = None) -> ModelProvider:
    """A provider answering from the reply log at ``path`` with the recorded provider's
    name, endpoint and settings (so that the same requests have the same keys)."""
    replies = read_replies(path)
    store = ReplayStore(replies, ledger)
    return ModelProvider(
        "replay", Unrecorded(), replies.settings, ledger, store, replies.endpoint,
        log=log, origin=replies.provider, n=replies.n,
    )  # fmt: skip

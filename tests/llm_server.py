"""A loopback HTTP server that speaks the OpenAI Chat Completions and Anthropic Messages wire
formats, so the real ``openai`` and ``anthropic`` SDKs can be tested over HTTP without network.

    with LLMServer([Reply(status=429, retry_after=0.1), Reply(text="hi")]) as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="test")
        client.chat.completions.create(model="m", messages=[...])
        assert len(server.requests) == 2

In a test, the conftest's ``loopback`` fixture starts one and stops it at the end:
``server = loopback(LLMServer([...]))``.

Replies are a queue consumed in order (the last one repeats once it is exhausted) or a function
of the parsed request body. Every request is recorded in ``server.requests`` as a dict with
"method", "path", "headers" (lower-cased names), "body" (parsed JSON) and "time" (monotonic).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer

Body = dict[str, Any]


@dataclass
class Reply:
    """One scripted answer."""

    text: str = ""  # assistant content
    texts: list[str] | None = None  # one per choice when an OpenAI request asks for n > 1
    status: int = 200  # e.g. 429, 500, 401, 529 (Anthropic "overloaded")
    retry_after: float | None = None  # Retry-After header, in seconds
    delay: float = 0.0  # sleep before answering, to exceed a client timeout
    malformed: bool = False  # answer 200 with a body that is not valid JSON
    input_tokens: int = 100
    output_tokens: int = 50
    cached_tokens: int = 0

    def choice_texts(self, n: int) -> list[str]:
        texts = self.texts or [self.text]
        return [texts[i % len(texts)] for i in range(n)]


OPENAI_ERRORS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "permission_denied"),
    404: ("invalid_request_error", "not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def chunks(text: str, parts: int = 3) -> list[str]:
    """``text`` cut into at most ``parts`` non-empty pieces (one empty piece for empty text)."""
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class LLMServer(LoopbackServer):
    """A scripted OpenAI + Anthropic API on 127.0.0.1, served from a background thread."""

    def __init__(self, replies: list[Reply] | Callable[[Body], Reply] | None = None) -> None:
        super().__init__()
        if replies is None:
            replies = [Reply(text="ok")]
        self._replies = replies if callable(replies) else list(replies)  # a copy: it is consumed
        self._lock = threading.Lock()
        self.requests: list[Body] = []

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def record(self, entry: Body) -> None:
        with self._lock:
            self.requests.append(entry)

    def next_reply(self, body: Body) -> Reply:
        if callable(self._replies):
            return self._replies(body)
        with self._lock:
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]


class _Handler(BaseHTTPRequestHandler):
    server_state: LLMServer
    timeout = 10  # never let a stuck connection hold a handler thread forever

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output quiet

    def do_GET(self) -> None:
        path = self._record({})
        if path == "/v1/models":
            model = {"id": "gpt-test", "object": "model", "created": 0, "owned_by": "test"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._send_openai_error(404, f"Unknown path {path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        path = self._record(body)
        if path not in ("/v1/chat/completions", "/v1/messages"):
            self._send_openai_error(404, f"Unknown path {path}")
            return
        reply = self.server_state.next_reply(body)
        if reply.delay and not self.server_state.sleep(reply.delay):
            return  # the server is stopping: nobody waits for this answer any more
        try:
            if path == "/v1/chat/completions":
                self._openai(body, reply)
            else:
                self._anthropic(body, reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before the answer came

    def _record(self, body: Body) -> str:
        path = self.path.split("?", 1)[0]
        headers = {key.lower(): value for key, value in self.headers.items()}
        entry = {"method": self.command, "path": path, "headers": headers, "body": body}
        self.server_state.record({**entry, "time": time.monotonic()})
        return path

    # --- OpenAI Chat Completions ---------------------------------------------------------

    def _openai(self, body: Body, reply: Reply) -> None:
        if reply.status >= 400:
            self._send_openai_error(reply.status, f"Scripted error {reply.status}", reply)
            return
        stream = bool(body.get("stream"))
        if reply.malformed:
            self._send_malformed(stream, "data: {not json\n\n")
            return
        model = body.get("model", "gpt-test")
        texts = reply.choice_texts(int(body.get("n") or 1))
        head = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "created": int(time.time()),
            "model": model,
        }
        usage = {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
        }
        if not stream:
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
                for i, text in enumerate(texts)
            ]
            self._send_json(
                200, {**head, "object": "chat.completion", "choices": choices, "usage": usage}
            )
            return
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list[Body], chunk_usage: Body | None = None) -> Body:
            extra = {"usage": chunk_usage} if with_usage else {}
            return {**head, "object": "chat.completion.chunk", "choices": choices, **extra}

        def events() -> Iterator[str]:
            for i, text in enumerate(texts):
                deltas = [{"role": "assistant", "content": ""}]
                deltas += [{"content": part} for part in chunks(text)]
                for delta in deltas:
                    yield _sse(chunk([{"index": i, "delta": delta, "finish_reason": None}]))
                yield _sse(chunk([{"index": i, "delta": {}, "finish_reason": "stop"}]))
            if with_usage:
                yield _sse(chunk([], usage))
            yield "data: [DONE]\n\n"

        self._send_stream(events())

    def _send_openai_error(self, status: int, message: str, reply: Reply | None = None) -> None:
        kind, code = OPENAI_ERRORS.get(status, ("server_error", None))
        error = {"message": message, "type": kind, "param": None, "code": code}
        self._send_json(status, {"error": error}, reply)

    # --- Anthropic Messages --------------------------------------------------------------

    def _anthropic(self, body: Body, reply: Reply) -> None:
        if reply.status >= 400:
            kind = ANTHROPIC_ERRORS.get(reply.status, "api_error")
            error = {"type": kind, "message": f"Scripted error {reply.status}"}
            self._send_json(reply.status, {"type": "error", "error": error}, reply)
            return
        stream = bool(body.get("stream"))
        if reply.malformed:
            self._send_malformed(stream, "event: message_start\ndata: {not json\n\n")
            return
        usage = {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cached_tokens,
            "cache_creation_input_tokens": 0,
        }
        message: Body = {
            "id": f"msg_{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-test"),
            "content": [{"type": "text", "text": reply.text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        if not stream:
            self._send_json(200, message)
            return

        def events() -> Iterator[str]:
            start = {**message, "content": [], "stop_reason": None}
            start["usage"] = {**usage, "output_tokens": 1}
            yield _named_sse({"type": "message_start", "message": start})
            yield _named_sse({"type": "ping"})
            text_block = {"type": "text", "text": ""}
            yield _named_sse(
                {"type": "content_block_start", "index": 0, "content_block": text_block}
            )
            for part in chunks(reply.text):
                delta = {"type": "text_delta", "text": part}
                yield _named_sse({"type": "content_block_delta", "index": 0, "delta": delta})
            yield _named_sse({"type": "content_block_stop", "index": 0})
            yield _named_sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": reply.output_tokens},
                }
            )
            yield _named_sse({"type": "message_stop"})

        self._send_stream(events())

    # --- plumbing --------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Body, reply: Reply | None = None) -> None:
        self._send_bytes(status, "application/json", json.dumps(payload).encode(), reply)

    def _send_malformed(self, stream: bool, sse_line: str) -> None:
        if stream:
            self._send_stream(iter([sse_line]))
        else:
            self._send_bytes(200, "application/json", b'{"id": "broken", "choices": [', None)

    def _send_bytes(self, status: int, content_type: str, data: bytes, reply: Reply | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if reply is not None and reply.retry_after is not None:
            self.send_header("Retry-After", str(reply.retry_after))
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, events: Iterator[str]) -> None:
        # HTTP/1.0 (the handler default): the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for event in events:
            self.wfile.write(event.encode())
            self.wfile.flush()


def _sse(data: Body) -> str:
    return f"data: {json.dumps(data)}\n\n"


def _named_sse(data: Body) -> str:
    """Anthropic's SSE: the SDK skips any event without an ``event:`` line."""
    return f"event: {data['type']}\n" + _sse(data)

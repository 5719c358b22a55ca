"""The loopback LLM server, exercised through the real openai and anthropic SDKs over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

import anthropic
import openai
import pytest
from anthropic.types import Message, MessageParam
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from tests.llm_server import LLMServer, Reply
from tests.loopback import Serving

OPENAI_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hi"}]
ANTHROPIC_MESSAGES: list[MessageParam] = [{"role": "user", "content": "Say hi"}]
TEXT = "Hello there, world"


@pytest.fixture
def server(loopback: Serving) -> LLMServer:
    return loopback(LLMServer([Reply(text=TEXT, input_tokens=12, output_tokens=7)]))


def openai_client(server: LLMServer, max_retries: int = 0, timeout: float = 5) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.openai_base_url, api_key="test", max_retries=max_retries, timeout=timeout
    )


def anthropic_client(
    server: LLMServer, max_retries: int = 0, timeout: float = 5
) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=max_retries, timeout=timeout
    )


def ask_openai(client: openai.OpenAI, **kwargs: Any) -> ChatCompletion:
    return client.chat.completions.create(model="gpt-test", messages=OPENAI_MESSAGES, **kwargs)


def ask_anthropic(client: anthropic.Anthropic, **kwargs: Any) -> Message:
    return client.messages.create(
        model="claude-test", max_tokens=64, messages=ANTHROPIC_MESSAGES, **kwargs
    )


def text_of(message: Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


# --- happy paths ----------------------------------------------------------------------------


def test_openai_completion_text_and_usage(loopback: Serving) -> None:
    srv = loopback(
        LLMServer([Reply(text="Hi!", input_tokens=11, output_tokens=3, cached_tokens=4)])
    )
    done = ask_openai(openai_client(srv))
    assert done.object == "chat.completion"
    assert done.model == "gpt-test"
    assert done.choices[0].message.role == "assistant"
    assert done.choices[0].message.content == "Hi!"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (11, 3)
    assert done.usage.total_tokens == 14
    assert done.usage.prompt_tokens_details is not None
    assert done.usage.prompt_tokens_details.cached_tokens == 4


def test_anthropic_message_text_and_usage(loopback: Serving) -> None:
    srv = loopback(
        LLMServer([Reply(text="Hi!", input_tokens=11, output_tokens=3, cached_tokens=4)])
    )
    done = ask_anthropic(anthropic_client(srv))
    assert [block.type for block in done.content] == ["text"]
    assert text_of(done) == "Hi!"
    assert (done.role, done.stop_reason, done.model) == ("assistant", "end_turn", "claude-test")
    assert (done.usage.input_tokens, done.usage.output_tokens) == (11, 3)
    assert done.usage.cache_read_input_tokens == 4


def test_openai_n_choices(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(texts=["one", "two"])]))
    done = ask_openai(openai_client(srv), n=2)
    assert [c.index for c in done.choices] == [0, 1]
    assert [c.message.content for c in done.choices] == ["one", "two"]


def test_openai_stream_reassembles_text_and_usage(server: LLMServer) -> None:
    stream = openai_client(server).chat.completions.create(
        model="gpt-test",
        messages=OPENAI_MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta.content for c in chunks if c.choices]
    assert "".join(d or "" for d in deltas) == TEXT
    assert sum(1 for d in deltas if d) > 1  # really split into several chunks
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (12, 7)


def test_openai_stream_without_include_usage_has_no_usage(server: LLMServer) -> None:
    stream = openai_client(server).chat.completions.create(
        model="gpt-test", messages=OPENAI_MESSAGES, stream=True
    )
    chunks = list(stream)
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == TEXT


def test_anthropic_stream_reassembles_text_and_usage(server: LLMServer) -> None:
    client = anthropic_client(server)
    with client.messages.stream(
        model="claude-test", max_tokens=64, messages=ANTHROPIC_MESSAGES
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1 and "".join(pieces) == TEXT
    assert text_of(final) == TEXT
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 7)


def test_anthropic_raw_stream_event_sequence(server: LLMServer) -> None:
    events = anthropic_client(server).messages.create(
        model="claude-test", max_tokens=64, messages=ANTHROPIC_MESSAGES, stream=True
    )
    kinds = [event.type for event in events]  # the ping is skipped by the SDK
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}


# --- failures -------------------------------------------------------------------------------


def test_openai_retries_429_honouring_retry_after(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(status=429, retry_after=0.1), Reply(text="after")]))
    done = ask_openai(openai_client(srv, max_retries=2))
    assert done.choices[0].message.content == "after"
    assert len(srv.requests) == 2
    pause = srv.requests[1]["time"] - srv.requests[0]["time"]
    assert 0.1 <= pause < 0.35  # the Retry-After, not the SDK's own 0.375-0.5 s first backoff
    assert [r["headers"]["x-stainless-retry-count"] for r in srv.requests] == ["0", "1"]


def test_anthropic_retries_429_and_529(loopback: Serving) -> None:
    replies = [Reply(status=429, retry_after=0.1), Reply(status=529, retry_after=0.1), Reply("ok")]
    srv = loopback(LLMServer(replies))
    done = ask_anthropic(anthropic_client(srv, max_retries=2))
    assert text_of(done) == "ok"
    assert len(srv.requests) == 3


def test_429_without_retries_is_a_rate_limit_error(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(status=429, retry_after=0.1)]))
    with pytest.raises(openai.RateLimitError) as caught:
        ask_openai(openai_client(srv))
    assert caught.value.response.headers["retry-after"] == "0.1"
    assert caught.value.code == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError):
        ask_anthropic(anthropic_client(srv))


def test_500_is_an_internal_server_error(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(status=500)]))
    with pytest.raises(openai.InternalServerError):
        ask_openai(openai_client(srv))
    with pytest.raises(anthropic.InternalServerError) as caught:
        ask_anthropic(anthropic_client(srv))
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": "Scripted error 500"},
    }
    assert len(srv.requests) == 2  # max_retries=0: no retry


def test_401_is_an_authentication_error(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(status=401)]))
    with pytest.raises(openai.AuthenticationError):
        ask_openai(openai_client(srv, max_retries=2))
    with pytest.raises(anthropic.AuthenticationError):
        ask_anthropic(anthropic_client(srv, max_retries=2))
    assert len(srv.requests) == 2  # 401 is never retried


def test_a_slow_answer_times_out(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(text="late", delay=2.0)]))
    with pytest.raises(openai.APITimeoutError):
        ask_openai(openai_client(srv, timeout=0.2))
    with pytest.raises(anthropic.APITimeoutError):
        ask_anthropic(anthropic_client(srv, timeout=0.2))
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 1.0  # stop() does not wait out the pending delays


def test_malformed_body_raises_instead_of_hanging(loopback: Serving) -> None:
    # With a JSON content type, both SDKs let json's ValueError through, not an APIError.
    srv = loopback(LLMServer([Reply(malformed=True)]))
    with pytest.raises(ValueError):
        ask_openai(openai_client(srv))
    with pytest.raises(ValueError):
        ask_anthropic(anthropic_client(srv))
    with pytest.raises(ValueError):
        list(ask_openai(openai_client(srv), stream=True))
    with pytest.raises(ValueError):
        list(ask_anthropic(anthropic_client(srv), stream=True))


# --- recording and lifecycle ----------------------------------------------------------------


def test_requests_are_recorded(server: LLMServer) -> None:
    ask_openai(openai_client(server), temperature=0.3)
    # anthropic 2.x's messages.create has no `temperature` parameter: it goes in extra_body.
    ask_anthropic(anthropic_client(server), extra_body={"temperature": 0.7})
    first, second = server.requests
    assert (first["method"], first["path"]) == ("POST", "/v1/chat/completions")
    assert first["body"] == {"model": "gpt-test", "messages": OPENAI_MESSAGES, "temperature": 0.3}
    assert first["headers"]["authorization"] == "Bearer test"
    assert (second["method"], second["path"]) == ("POST", "/v1/messages")
    assert second["body"] == {
        "model": "claude-test",
        "max_tokens": 64,
        "messages": ANTHROPIC_MESSAGES,
        "temperature": 0.7,
    }
    assert second["headers"]["authorization"] == "Bearer test"  # not x-api-key, in 2.x
    assert "anthropic-version" in second["headers"]


def test_replies_from_a_function_of_the_request(loopback: Serving) -> None:
    srv = loopback(LLMServer(lambda body: Reply(text=f"echo {body['model']}")))
    assert ask_openai(openai_client(srv)).choices[0].message.content == "echo gpt-test"
    assert text_of(ask_anthropic(anthropic_client(srv))) == "echo claude-test"


def test_the_last_reply_repeats(loopback: Serving) -> None:
    srv = loopback(LLMServer([Reply(text="first"), Reply(text="then")]))
    client = openai_client(srv)
    answers = [ask_openai(client).choices[0].message.content for _ in range(3)]
    assert answers == ["first", "then", "then"]


def test_list_models(server: LLMServer) -> None:
    assert [m.id for m in openai_client(server).models.list()] == ["gpt-test"]


def test_stop_leaves_no_threads_and_frees_the_port() -> None:
    before = set(threading.enumerate())
    with LLMServer() as srv:
        assert ask_openai(openai_client(srv)).choices[0].message.content == "ok"
    assert set(threading.enumerate()) <= before
    with pytest.raises(openai.APIConnectionError):
        ask_openai(openai_client(srv))

"""Every provider's wire format through the real gateway, buffered and streamed, with personal
data in every kind of field: the provider sees none of it, the client gets it all back."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@acme-corp.com"
CARD = "4539 1488 0343 6467"
IBAN = "DE89 3704 0044 0532 0130 00"
PHONE = "+1 415-555-0134"
IP = "203.0.113.77"
SSN = "536-22-8147"
KEY = "sk-proj-4fT9xQ2LmZ8vR1cN7bK3wYe6HsJ0pDaU"
PERSONAL = [EMAIL, CARD, IBAN, PHONE, IP, SSN, KEY]
USER_TEXT = (
    f"Refund card {CARD} to IBAN {IBAN}, then mail {EMAIL} — call {PHONE} if it "
    f"fails. Ünïcödé ✓ 日本"
)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    first_byte_s: float
    total_s: float


def post(base: str, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    start = time.monotonic()
    conn.request(
        "POST",
        path,
        json.dumps(payload).encode(),
        {"content-type": "application/json", **(headers or {})},
    )
    resp = conn.getresponse()
    first = resp.read1(65536)
    first_at = time.monotonic() - start
    rest = resp.read()
    total = time.monotonic() - start
    conn.close()
    return Reply(
        resp.status, {k.lower(): v for k, v in resp.getheaders()}, first + rest, first_at, total
    )


def sse_events(body: bytes) -> list[tuple[str | None, Any]]:
    events = []
    for block in body.decode().replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            joined = "\n".join(data)
            events.append((name, joined if joined == "[DONE]" else json.loads(joined)))
    return events


# -- per API: a request with personal data everywhere, and what the client must get back ------


def openai_chat(stream: bool) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "stream": stream,
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        "messages": [
            {"role": "system", "content": f"Agent notes: customer SSN {SSN}."},
            {"role": "user", "name": "jane", "content": f"My IP is {IP}."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"email": EMAIL})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": f"key on file: {KEY}"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": USER_TEXT},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
        ],
    }


def openai_chat_reply(body: bytes, stream: bool) -> tuple[str, str]:
    if not stream:
        message = json.loads(body)["choices"][0]["message"]
        return message["content"], message["tool_calls"][0]["function"]["arguments"]
    text, args = "", ""
    for _, event in sse_events(body):
        if event == "[DONE]":
            continue
        for choice in event["choices"]:
            delta = choice.get("delta", {})
            text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                args += call.get("function", {}).get("arguments", "")
    return text, args


def anthropic(stream: bool) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "stream": stream,
        "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
        "system": [{"type": "text", "text": f"Customer SSN {SSN}."}],
        "messages": [
            {"role": "user", "content": f"My IP is {IP}."},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "tu_1",
                        "name": "lookup",
                        "input": {"who": {"email": EMAIL}},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "tu_1",
                        "content": [{"type": "text", "text": f"key {KEY}"}],
                    },
                    {"type": "text", "text": USER_TEXT},
                ],
            },
        ],
    }


def anthropic_reply(body: bytes, stream: bool) -> tuple[str, str]:
    if not stream:
        blocks = json.loads(body)["content"]
        text = "".join(b["text"] for b in blocks if b["type"] == "text")
        tool = next(b for b in blocks if b["type"] == "tool_use")
        return text, json.dumps(tool["input"], ensure_ascii=False)
    events = sse_events(body)
    assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    text, args = "", ""
    for name, event in events:
        assert name == event["type"]
        if name == "content_block_delta":
            text += event["delta"].get("text", "")
            args += event["delta"].get("partial_json", "")
    return text, args


def responses(stream: bool) -> dict[str, Any]:
    return {
        "model": "gpt-4.1",
        "stream": stream,
        "instructions": f"Customer SSN {SSN}.",
        "tools": [{"type": "function", "name": "lookup", "parameters": {}}],
        "input": [
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "lookup",
                "arguments": json.dumps({"email": EMAIL}),
            },
            {"type": "function_call_output", "call_id": "c1", "output": f"key {KEY}, ip {IP}"},
            {"role": "user", "content": [{"type": "input_text", "text": USER_TEXT}]},
        ],
    }


def responses_reply(body: bytes, stream: bool) -> tuple[str, str]:
    if not stream:
        output = json.loads(body)["output"]
        text = "".join(c["text"] for o in output if o["type"] == "message" for c in o["content"])
        args = next(o["arguments"] for o in output if o["type"] == "function_call")
        return text, args
    text, args, done_text, completed = "", "", None, None
    for _, event in sse_events(body):
        kind = event["type"]
        if kind == "response.output_text.delta":
            text += event["delta"]
        elif kind == "response.function_call_arguments.delta":
            args += event["delta"]
        elif kind == "response.output_text.done":
            done_text = event["text"]
        elif kind == "response.completed":
            completed = event["response"]
    assert done_text == text  # the .done event repeats the whole text, restored the same way
    assert completed is not None
    assert responses_reply(json.dumps(completed).encode(), stream=False) == (text, args)
    return text, args


def gemini(stream: bool) -> dict[str, Any]:
    return {
        "systemInstruction": {"parts": [{"text": f"Customer SSN {SSN}."}]},
        "tools": [{"functionDeclarations": [{"name": "lookup"}]}],
        "contents": [
            {
                "role": "model",
                "parts": [{"functionCall": {"name": "lookup", "args": {"email": EMAIL}}}],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "lookup", "response": {"key": KEY, "ip": IP}}}
                ],
            },
            {"role": "user", "parts": [{"text": USER_TEXT}]},
        ],
    }


def gemini_reply(body: bytes, stream: bool) -> tuple[str, str]:
    chunks = [e for _, e in sse_events(body)] if stream else [json.loads(body)]
    text, args = "", ""
    for chunk in chunks:
        for part in chunk["candidates"][0]["content"]["parts"]:
            text += part.get("text", "")
            if "functionCall" in part:
                args = json.dumps(part["functionCall"]["args"], ensure_ascii=False)
    return text, args


@dataclass
class API:
    name: str
    path: Callable[[bool], str]
    request: Callable[[bool], dict[str, Any]]
    reply: Callable[[bytes, bool], tuple[str, str]]


APIS = [
    API("openai-chat", lambda s: "/v1/chat/completions", openai_chat, openai_chat_reply),
    API("anthropic", lambda s: "/v1/messages", anthropic, anthropic_reply),
    API("openai-responses", lambda s: "/v1/responses", responses, responses_reply),
    API(
        "gemini",
        lambda s: (
            "/v1beta/models/gemini-2.5-flash:"
            + ("streamGenerateContent?alt=sse" if s else "generateContent")
        ),
        gemini,
        gemini_reply,
    ),
]


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip(stack: Stack, api: API, stream: bool, seed: int) -> None:
    stack.reset()
    reply = post(stack.gateway, api.path(stream), api.request(stream), {"x-echo-seed": str(seed)})
    assert reply.status == 200, reply.body[:500]
    (received,) = stack.received()
    for value in PERSONAL:
        assert value not in received, "personal data reached the provider"
    text, args = api.reply(reply.body, stream)
    assert text == USER_TEXT
    assert json.loads(args) == {"text": USER_TEXT}

    # the same request sent straight to the provider gives the same logical answer
    direct = post(stack.provider, api.path(stream), api.request(stream), {"x-echo-seed": str(seed)})
    assert api.reply(direct.body, stream) == (text, args)
    if stream:
        assert reply.headers["content-type"].startswith("text/event-stream")
        kinds = [n or (e if e == "[DONE]" else "data") for n, e in sse_events(reply.body)]
        direct_kinds = [n or (e if e == "[DONE]" else "data") for n, e in sse_events(direct.body)]
        assert _collapse(kinds) == _collapse(direct_kinds)
    else:
        # identical but for what depends on the request's bytes (ids hash the body, token
        # counts measure it): the provider saw doubles, the client sees the original answer
        assert _without_request_derived(json.loads(reply.body)) == _without_request_derived(
            json.loads(direct.body)
        )


_REQUEST_DERIVED = {"id", "call_id", "tool_use_id", "responseId", "usage", "usageMetadata"}


def _without_request_derived(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_request_derived(v) for k, v in value.items() if k not in _REQUEST_DERIVED
        }
    if isinstance(value, list):
        return [_without_request_derived(v) for v in value]
    return value


def _collapse(kinds: list[str]) -> list[str]:
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_stream_reaches_the_client_before_the_provider_finishes(stack: Stack, api: API) -> None:
    reply = post(stack.gateway, api.path(True), api.request(True), {"x-echo-stream-seconds": "2"})
    assert reply.status == 200
    assert reply.total_s >= 1.8
    assert reply.first_byte_s < 1.0, f"first bytes after {reply.first_byte_s:.2f}s"
    assert api.reply(reply.body, True)[0] == USER_TEXT


def test_legacy_completions_and_embeddings(stack: Stack) -> None:
    stack.reset()
    for stream in (False, True):
        reply = post(
            stack.gateway,
            "/v1/completions",
            {"model": "gpt-3.5-turbo-instruct", "prompt": USER_TEXT, "stream": stream},
        )
        assert reply.status == 200
        if stream:
            text = "".join(
                e["choices"][0]["text"] for _, e in sse_events(reply.body) if e != "[DONE]"
            )
        else:
            text = json.loads(reply.body)["choices"][0]["text"]
        assert text == USER_TEXT
    reply = post(
        stack.gateway,
        "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": [USER_TEXT, f"ip {IP}"]},
    )
    assert reply.status == 200 and len(json.loads(reply.body)["data"]) == 2
    for received in stack.received():
        for value in PERSONAL:
            assert value not in received

"""The echo provider: every API's wire format, buffered and streamed, and the hard cases its
streams are built to hit (deltas through words, HTTP chunks through UTF-8 sequences)."""

from __future__ import annotations

import base64
import http.client
import json
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from extproc.echo_provider import make_server

TEXT = "Grüße von Zoë Müller-Łukasiewicz, zoë.müller@bücher.example, Tel. +49 30 1234567 — 東京 🎉"
OPENAI_TOOLS = [
    {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "other", "parameters": {"type": "object"}}},
]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server, _ = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    chunks: list[bytes]  # the HTTP chunks as sent (one element for a content-length body)
    first_at: float  # seconds from the request to the first body bytes
    end_at: float  # seconds from the request to the end of the body

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Reply:
    """One request; a chunked answer is read chunk by chunk off the wire, framing checked."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    payload = raw if raw is not None else None if body is None else json.dumps(body).encode()
    start = time.monotonic()
    conn.request(method, path, payload, {"content-type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    head = {k.lower(): v for k, v in resp.getheaders()}
    chunks: list[bytes] = []
    first_at = None
    if head.get("transfer-encoding") == "chunked":
        fp = resp.fp  # the socket file, before http.client would undo the chunking
        while True:
            size = int(fp.readline().strip(), 16)
            first_at = first_at if first_at is not None else time.monotonic() - start
            if size == 0:
                assert fp.readline() == b"\r\n"
                break
            chunks.append(fp.read(size))
            assert fp.readline() == b"\r\n"
    else:
        chunks.append(resp.read())
        first_at = time.monotonic() - start
    end_at = time.monotonic() - start
    conn.close()
    return Reply(resp.status, head, chunks, first_at, end_at)


def post(port: int, path: str, body: Any, **headers: str) -> Reply:
    return request(port, "POST", path, body, {k.replace("_", "-"): v for k, v in headers.items()})


def sse(reply: Reply) -> list[tuple[str | None, str]]:
    """A tiny SSE parser: (event name, data) per event; LF or CRLF framing."""
    assert reply.headers["content-type"] == "text/event-stream"
    assert reply.headers["cache-control"] == "no-cache"
    text = reply.body.decode("utf-8").replace("\r\n", "\n")
    assert text.endswith("\n\n")
    events = []
    for block in text.split("\n\n")[:-1]:
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, "\n".join(data)))
    return events


def datas(reply: Reply) -> list[Any]:
    """The JSON data of every event but a final ``[DONE]``."""
    events = sse(reply)
    assert events[-1] == (None, "[DONE]")
    return [json.loads(data) for _, data in events[:-1]]


def typed(reply: Reply) -> list[dict[str, Any]]:
    """Named events whose ``event:`` line matches the data's ``type``."""
    out = []
    for name, data in sse(reply):
        obj = json.loads(data)
        assert name == obj["type"]
        out.append(obj)
    return out


def chat(**extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "an earlier question"},
            {"role": "assistant", "content": "an earlier answer"},
            {"role": "user", "content": TEXT},
        ],
        **extra,
    }


def check_deltas(deltas: list[str]) -> None:
    assert "".join(deltas) == TEXT
    assert all(1 <= len(d) <= 8 for d in deltas)
    assert len(deltas) >= len(TEXT) // 8


# ── OpenAI Chat Completions ─────────────────────────────────────────────────────────────────


def test_chat_buffered_is_a_real_deterministic_completion(port: int) -> None:
    reply = post(port, "/v1/chat/completions", chat())
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert "ü".encode() in reply.body  # raw UTF-8, not \u escapes
    answer = reply.json()
    assert answer["object"] == "chat.completion"
    assert answer["created"] == 1700000000
    assert answer["model"] == "gpt-4o-mini"
    choice = answer["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == TEXT
    assert choice["finish_reason"] == "stop"
    assert "tool_calls" not in choice["message"]
    assert post(port, "/v1/chat/completions", chat()).body == reply.body


def test_chat_text_parts_are_concatenated(port: int) -> None:
    parts = [
        {"type": "text", "text": TEXT[:10]},
        {"type": "image_url", "image_url": {"url": "data:,"}},
        {"type": "text", "text": TEXT[10:]},
    ]
    body = {"model": "m", "messages": [{"role": "user", "content": parts}]}
    answer = post(port, "/v1/chat/completions", body).json()
    assert answer["choices"][0]["message"]["content"] == TEXT


def test_chat_streamed(port: int) -> None:
    reply = post(port, "/v1/chat/completions", chat(stream=True))
    assert reply.status == 200
    assert reply.headers["transfer-encoding"] == "chunked"
    chunks = datas(reply)
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["choices"][0]["delta"]["content"] == ""
    last = chunks[-1]["choices"][0]
    assert last["delta"] == {}
    assert last["finish_reason"] == "stop"
    check_deltas([c["choices"][0]["delta"]["content"] for c in chunks[1:-1]])
    assert all("usage" not in c for c in chunks)


def test_chat_streamed_usage_chunk(port: int) -> None:
    body = chat(stream=True, stream_options={"include_usage": True})
    chunks = datas(post(port, "/v1/chat/completions", body))
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])


def test_chat_tool_call_buffered(port: int) -> None:
    answer = post(port, "/v1/chat/completions", chat(tools=OPENAI_TOOLS)).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == TEXT
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"]
    assert call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"text": TEXT}


def test_chat_tool_call_streamed(port: int) -> None:
    chunks = datas(post(port, "/v1/chat/completions", chat(tools=OPENAI_TOOLS, stream=True)))
    deltas = [c["choices"][0]["delta"] for c in chunks]
    check_deltas([d["content"] for d in deltas[1:] if "content" in d])
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0]["index"] == 0
    assert calls[0]["type"] == "function"
    assert calls[0]["id"]
    assert calls[0]["function"] == {"name": "lookup", "arguments": ""}
    assert all(set(c) == {"index", "function"} for c in calls[1:])
    arguments = "".join(c["function"]["arguments"] for c in calls[1:])
    assert json.loads(arguments) == {"text": TEXT}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


# ── OpenAI Responses ────────────────────────────────────────────────────────────────────────


def test_responses_buffered(port: int) -> None:
    items = [
        {"role": "user", "content": "an earlier question"},
        {"role": "assistant", "content": "an earlier answer"},
        {"role": "user", "content": [{"type": "input_text", "text": TEXT}]},
    ]
    for data in (TEXT, items):
        reply = post(port, "/v1/responses", {"model": "gpt-4.1", "input": data})
        answer = reply.json()
        assert answer["object"] == "response"
        assert answer["status"] == "completed"
        (message,) = answer["output"]
        assert message["type"] == "message"
        assert message["role"] == "assistant"
        assert message["status"] == "completed"
        assert message["id"]
        assert message["content"] == [
            {"type": "output_text", "annotations": [], "logprobs": [], "text": TEXT}
        ]
        assert reply.body == post(port, "/v1/responses", {"model": "gpt-4.1", "input": data}).body


def test_responses_function_call_buffered(port: int) -> None:
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    answer = post(port, "/v1/responses", {"model": "m", "input": TEXT, "tools": tools}).json()
    message, call = answer["output"]
    assert message["content"][0]["text"] == TEXT
    assert call["type"] == "function_call"
    assert call["name"] == "lookup"
    assert call["call_id"]
    assert json.loads(call["arguments"]) == {"text": TEXT}


def test_responses_streamed(port: int) -> None:
    events = typed(post(port, "/v1/responses", {"model": "m", "input": TEXT, "stream": True}))
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    kinds = [e["type"] for e in events]
    n = kinds.count("response.output_text.delta")
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * n,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["output"] == []
    item_id = events[2]["item"]["id"]
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert all(
        (e["item_id"], e["output_index"], e["content_index"]) == (item_id, 0, 0) for e in deltas
    )
    check_deltas([e["delta"] for e in deltas])
    assert events[-4]["text"] == TEXT
    assert events[-3]["part"]["text"] == TEXT
    assert events[-2]["item"]["content"][0]["text"] == TEXT
    completed = events[-1]["response"]
    assert completed["status"] == "completed"
    assert completed["output"][0]["content"][0]["text"] == TEXT


def test_responses_function_call_streamed(port: int) -> None:
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    body = {"model": "m", "input": TEXT, "tools": tools, "stream": True}
    events = typed(post(port, "/v1/responses", body))
    kinds = [e["type"] for e in events]
    tail = kinds[kinds.index("response.output_item.done") + 1 :]
    n = tail.count("response.function_call_arguments.delta")
    assert n > 1
    assert tail == [
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * n,
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[kinds.index("response.output_item.done") + 1]
    assert added["output_index"] == 1
    assert added["item"]["type"] == "function_call"
    assert added["item"]["name"] == "lookup"
    fragments = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert all(e["item_id"] == added["item"]["id"] for e in fragments)
    assert json.loads("".join(e["delta"] for e in fragments)) == {"text": TEXT}
    assert json.loads(events[-3]["arguments"]) == {"text": TEXT}
    assert json.loads(events[-1]["response"]["output"][1]["arguments"]) == {"text": TEXT}


# ── OpenAI legacy completions, embeddings ───────────────────────────────────────────────────


def test_legacy_completions(port: int) -> None:
    answer = post(port, "/v1/completions", {"model": "m", "prompt": [TEXT, "second"]}).json()
    assert answer["object"] == "text_completion"
    assert answer["choices"][0]["text"] == TEXT
    chunks = datas(post(port, "/v1/completions", {"model": "m", "prompt": TEXT, "stream": True}))
    assert all(c["object"] == "text_completion" for c in chunks)
    check_deltas([c["choices"][0]["text"] for c in chunks[:-1]])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_embeddings(port: int) -> None:
    answer = post(port, "/v1/embeddings", {"model": "e", "input": [TEXT, "b", TEXT]}).json()
    assert answer["object"] == "list"
    vectors = [d["embedding"] for d in answer["data"]]
    assert [d["index"] for d in answer["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in answer["data"])
    assert len(vectors[0]) == 8
    assert vectors[0] == vectors[2] != vectors[1]
    single = post(port, "/v1/embeddings", {"model": "e", "input": TEXT}).json()
    assert [d["embedding"] for d in single["data"]] == [vectors[0]]
    body = {"model": "e", "input": TEXT, "encoding_format": "base64"}
    packed = post(port, "/v1/embeddings", body).json()["data"][0]["embedding"]
    unpacked = struct.unpack("<8f", base64.b64decode(packed))
    assert unpacked == pytest.approx(vectors[0], abs=1e-6)


# ── Anthropic Messages ──────────────────────────────────────────────────────────────────────


def anthropic(**extra: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": TEXT[:20]}, {"type": "text", "text": TEXT[20:]}]
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "an earlier question"},
            {"role": "assistant", "content": "an earlier answer"},
            {"role": "user", "content": content},
        ],
        **extra,
    }


def test_anthropic_buffered(port: int) -> None:
    answer = post(port, "/v1/messages", anthropic()).json()
    assert answer["type"] == "message"
    assert answer["role"] == "assistant"
    assert answer["content"] == [{"type": "text", "text": TEXT}]
    assert answer["stop_reason"] == "end_turn"
    assert answer["usage"]["output_tokens"] > 0
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}]
    answer = post(port, "/v1/messages", anthropic(tools=tools)).json()
    assert answer["stop_reason"] == "tool_use"
    text, tool_use = answer["content"]
    assert text == {"type": "text", "text": TEXT}
    assert tool_use["type"] == "tool_use"
    assert tool_use["id"]
    assert tool_use["name"] == "lookup"
    assert tool_use["input"] == {"text": TEXT}


def test_anthropic_tool_result_text_when_no_text_block(port: int) -> None:
    result = {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": TEXT}],
    }
    body = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": [result]}]}
    assert post(port, "/v1/messages", body).json()["content"][0]["text"] == TEXT
    mixed = [result, {"type": "text", "text": "only this"}]
    body["messages"] = [{"role": "user", "content": mixed}]
    assert post(port, "/v1/messages", body).json()["content"][0]["text"] == "only this"


def test_anthropic_streamed(port: int) -> None:
    events = typed(post(port, "/v1/messages", anthropic(stream=True)))
    kinds = [e["type"] for e in events]
    n = kinds.count("content_block_delta")
    assert kinds == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * n,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["content"] == []
    assert events[0]["message"]["stop_reason"] is None
    assert events[1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    deltas = [e for e in events if e["type"] == "content_block_delta"]
    assert all(e["index"] == 0 and e["delta"]["type"] == "text_delta" for e in deltas)
    check_deltas([e["delta"]["text"] for e in deltas])
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert events[-2]["usage"]["output_tokens"] > 0


def test_anthropic_tool_use_streamed(port: int) -> None:
    tools = [{"name": "lookup", "input_schema": {"type": "object"}}, {"name": "other"}]
    events = typed(post(port, "/v1/messages", anthropic(stream=True, tools=tools)))
    kinds = [e["type"] for e in events]
    first_stop = kinds.index("content_block_stop")
    tail = kinds[first_stop + 1 :]
    n = tail.count("content_block_delta")
    assert tail == [
        "content_block_start",
        *["content_block_delta"] * n,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[first_stop + 1]
    assert start["index"] == 1
    assert start["content_block"]["type"] == "tool_use"
    assert start["content_block"]["name"] == "lookup"
    assert start["content_block"]["input"] == {}
    fragments = [e for e in events[first_stop + 1 :] if e["type"] == "content_block_delta"]
    assert all(e["index"] == 1 and e["delta"]["type"] == "input_json_delta" for e in fragments)
    assert json.loads("".join(e["delta"]["partial_json"] for e in fragments)) == {"text": TEXT}
    assert events[-3] == {"type": "content_block_stop", "index": 1}
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    text = [e["delta"]["text"] for e in events if e.get("delta", {}).get("type") == "text_delta"]
    check_deltas(text)


# ── Gemini ──────────────────────────────────────────────────────────────────────────────────


def gemini(**extra: Any) -> dict[str, Any]:
    return {
        "contents": [
            {"role": "user", "parts": [{"text": "an earlier question"}]},
            {"role": "model", "parts": [{"text": "an earlier answer"}]},
            {"role": "user", "parts": [{"text": TEXT[:30]}, {"text": TEXT[30:]}]},
        ],
        **extra,
    }


GEMINI_TOOLS = [{"functionDeclarations": [{"name": "lookup"}, {"name": "other"}]}]


def test_gemini_generate_content(port: int) -> None:
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    answer = post(port, path, gemini()).json()
    candidate = answer["candidates"][0]
    assert candidate["content"] == {"parts": [{"text": TEXT}], "role": "model"}
    assert candidate["finishReason"] == "STOP"
    assert answer["usageMetadata"]["totalTokenCount"] > 0
    assert answer["modelVersion"] == "gemini-2.5-flash"
    parts = post(port, path, gemini(tools=GEMINI_TOOLS)).json()["candidates"][0]["content"]["parts"]
    assert parts == [{"text": TEXT}, {"functionCall": {"name": "lookup", "args": {"text": TEXT}}}]


def gemini_texts(chunks: list[dict[str, Any]]) -> list[str]:
    for chunk in chunks:
        assert chunk["candidates"][0]["content"]["role"] == "model"
    return [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks]


def test_gemini_stream_sse(port: int) -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    reply = post(port, path, gemini(tools=GEMINI_TOOLS))
    assert b"\r\n\r\n" in reply.body  # Gemini frames its events with CRLF
    events = sse(reply)
    assert all(name is None for name, _ in events)
    chunks = [json.loads(data) for _, data in events]
    check_deltas(gemini_texts(chunks))
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert all("usageMetadata" not in c for c in chunks[:-1])
    last = chunks[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"]["totalTokenCount"] > 0
    call = last["candidates"][0]["content"]["parts"][1]
    assert call == {"functionCall": {"name": "lookup", "args": {"text": TEXT}}}


def test_gemini_stream_json_array(port: int) -> None:
    reply = post(port, "/v1beta/models/g:streamGenerateContent", gemini())
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["transfer-encoding"] == "chunked"
    chunks = reply.json()
    check_deltas(gemini_texts(chunks))
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


# ── the hard cases: chunking, reproducibility, timing ───────────────────────────────────────


def boundaries(chunks: list[bytes]) -> list[int]:
    """The offsets in the body where one chunk ends and the next begins."""
    offsets, pos = [], 0
    for chunk in chunks[:-1]:
        pos += len(chunk)
        offsets.append(pos)
    return offsets


def cuts_utf8(chunks: list[bytes]) -> bool:
    """Whether some chunk boundary falls inside a UTF-8 multi-byte sequence."""
    return any(c and 0x80 <= c[0] < 0xC0 for c in chunks[1:])


def cuts_blank_line(chunks: list[bytes]) -> bool:
    """Whether some chunk boundary falls between the line ends that close an event."""
    body = b"".join(chunks)
    return any(body[p - 1] in b"\r\n" and body[p] in b"\r\n" for p in boundaries(chunks))


def test_http_chunks_cut_through_utf8_and_sse_lines(port: int) -> None:
    for path, body in (
        ("/v1/chat/completions", chat(stream=True)),
        ("/v1/responses", {"model": "m", "input": TEXT, "stream": True}),
        ("/v1/messages", anthropic(stream=True)),
        ("/v1beta/models/g:streamGenerateContent?alt=sse", gemini()),
    ):
        chunks = post(port, path, body).chunks
        assert len(chunks) > 20
        assert cuts_utf8(chunks), path
        assert any(not c.endswith(b"\n") for c in chunks[:-1]), path  # inside an SSE line
        assert cuts_blank_line(chunks), path
        assert any(len(c) < 4 for c in chunks) and any(len(c) > 40 for c in chunks), path


def test_seed_makes_streams_reproducible(port: int) -> None:
    body = chat(stream=True)
    one = post(port, "/v1/chat/completions", body, x_echo_seed="7")
    again = post(port, "/v1/chat/completions", body, x_echo_seed="7")
    other = post(port, "/v1/chat/completions", body, x_echo_seed="8")
    default = post(port, "/v1/chat/completions", body)
    assert one.chunks == again.chunks
    assert default.chunks == post(port, "/v1/chat/completions", body, x_echo_seed="0").chunks
    assert other.body != one.body  # other deltas
    assert [len(c) for c in other.chunks] != [len(c) for c in one.chunks]
    for reply in (one, other):
        deltas = [c["choices"][0]["delta"].get("content") for c in datas(reply)[1:-1]]
        check_deltas(deltas)


def test_stream_seconds_spreads_the_writes(port: int) -> None:
    body = anthropic(stream=True)
    reply = post(port, "/v1/messages", body, x_echo_stream_seconds="1")
    assert reply.first_at < 0.5
    assert reply.end_at >= 0.8
    assert reply.body == post(port, "/v1/messages", body).body
    fast = post(port, "/v1/messages", body)
    assert fast.end_at < 0.5


def test_server_defaults_for_seed_and_seconds(port: int) -> None:
    server, _ = make_server("127.0.0.1", 0, seed=7, stream_seconds=0.3)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reply = post(server.server_address[1], "/v1/chat/completions", chat(stream=True))
    finally:
        server.shutdown()
        server.server_close()
    assert reply.end_at >= 0.25
    seeded = post(port, "/v1/chat/completions", chat(stream=True), x_echo_seed="7")
    assert reply.chunks == seeded.chunks


# ── recorder, errors, request framing ───────────────────────────────────────────────────────


def test_received_records_raw_bodies() -> None:
    server, recorder = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        raw = json.dumps(chat(), ensure_ascii=False, indent=1).encode()
        post_raw = request(port, "POST", "/v1/chat/completions", raw=raw)
        assert post_raw.json()["choices"][0]["message"]["content"] == TEXT
        request(port, "POST", "/nowhere", raw=b"not json")
        received = request(port, "GET", "/_received").json()
        assert received == [raw.decode(), "not json"]
        assert recorder.all() == received
        assert request(port, "DELETE", "/_received").json() == []
        assert request(port, "GET", "/_received").json() == []
    finally:
        server.shutdown()
        server.server_close()


def test_errors(port: int) -> None:
    reply = request(port, "POST", "/v1/chat/completions", raw=b"{not json")
    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"
    reply = post(port, "/v1/nowhere", {"model": "m"})
    assert reply.status == 404
    assert reply.json()["error"]["type"] == "not_found"
    assert post(port, "/v1/chat/completions", [1, 2]).status == 400
    assert post(port, "/v1/chat/completions", chat(), x_echo_seed="x").status == 400
    assert post(port, "/v1/chat/completions", chat(), x_echo_stream_seconds="-1").status == 400
    assert request(port, "GET", "/elsewhere").status == 404


def test_chunked_request_body(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    raw = json.dumps(chat()).encode()
    pieces = iter([raw[:7], raw[7:100], raw[100:]])
    conn.request("POST", "/v1/chat/completions", pieces, encode_chunked=True)
    answer = json.loads(conn.getresponse().read())
    conn.close()
    assert answer["choices"][0]["message"]["content"] == TEXT


def test_keep_alive_serves_several_streams_on_one_connection(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):
        conn.request("POST", "/v1/messages", json.dumps(anthropic(stream=True)))
        body = conn.getresponse().read().decode()
        assert body.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    conn.close()

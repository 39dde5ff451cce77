"""The stand-in LLM provider for demos and tests (there is no internet here).

It speaks the providers' real wire formats, buffered and streamed (SSE), answers with the last
user text verbatim, and records the raw body of every request it receives, so a test can prove
what left the gateway. ``GET /_received`` returns those bodies as a JSON array of strings;
``DELETE /_received`` clears them.

Routes (matched on the end of the path, so any prefix such as ``/v1`` or ``/openai/v1`` works):

- ``…/chat/completions``: OpenAI Chat Completions (also Mistral and other compatible APIs)
- ``…/responses``: OpenAI Responses
- ``…/completions``: OpenAI legacy completions; ``…/embeddings``: OpenAI embeddings
- ``…/messages``: Anthropic Messages; ``…/messages/count_tokens``
- ``…/models/{model}:generateContent`` and ``:streamGenerateContent`` (``?alt=sse`` for SSE,
  else a streamed JSON array): Gemini

A request that asks for tools gets, besides the text, one tool call whose arguments are
``{"text": <user text>}``.

Streams are built to hit the hard cases of restoring text on the way back: the answer is cut
into deltas of 1–8 characters (through words, numbers and emails), and the SSE byte stream goes
out with ``Transfer-Encoding: chunked`` in chunks of random size whose boundaries fall anywhere,
inside UTF-8 sequences and SSE lines included. Request headers steer it:

- ``x-echo-seed: <int>`` seeds the randomness (default: the server's ``seed``, 0), so a run is
  reproducible;
- ``x-echo-stream-seconds: <float>`` spreads the writes evenly over that many seconds (default:
  the server's ``stream_seconds``, 0).

Buffered answers are deterministic for a given request: fixed ``created`` time, ids from a hash
of the body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

CREATED = 1700000000  # fixed timestamp: buffered answers are deterministic
EMBEDDING_DIMENSIONS = 8
_GEMINI_ROUTE = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")


class Recorder:
    """Thread-safe list of the raw request bodies the provider received, and the Responses
    answers it stored (as the real API does by default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: list[str] = []
        self._responses: dict[str, str] = {}

    def add(self, body: bytes) -> None:
        with self._lock:
            self._bodies.append(body.decode("utf-8", "replace"))

    def all(self) -> list[str]:
        with self._lock:
            return list(self._bodies)

    def remember(self, response_id: str, text: str) -> None:
        """Keep a Responses answer, for requests that continue it (previous_response_id)."""
        with self._lock:
            self._responses[response_id] = text

    def recall(self, response_id: str) -> str | None:
        with self._lock:
            return self._responses.get(response_id)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()


# ── where the user text is ──────────────────────────────────────────────────────────────────


def _text_of(content: Any, part_types: tuple[str, ...] = ("text", "input_text")) -> str:
    """The text of a message ``content``: a string, or the concatenated text of its text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"]
            for p in content
            if isinstance(p, dict)
            and p.get("type", "text") in part_types
            and isinstance(p.get("text"), str)
        )
    return ""


def _last_with_role(items: Any, role: str, default_role: str | None = None) -> dict[str, Any]:
    """The last dict in ``items`` whose ``role`` is ``role`` (a missing role counts as
    ``default_role``), or an empty dict."""
    if isinstance(items, list):
        for item in reversed(items):
            if isinstance(item, dict) and item.get("role", default_role) == role:
                return item
    return {}


def last_user_text(request: dict[str, Any]) -> str:
    """OpenAI Chat Completions: the last user message's text."""
    return _text_of(_last_with_role(request.get("messages"), "user").get("content"))


def responses_user_text(request: dict[str, Any]) -> str:
    """OpenAI Responses: ``input`` if a string, else the last user item's text."""
    data = request.get("input")
    if isinstance(data, str):
        return data
    return _text_of(_last_with_role(data, "user").get("content"))


def completion_prompt(request: dict[str, Any]) -> str:
    """OpenAI legacy completions: ``prompt``, or its first element when a list."""
    prompt = request.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else ""
    return prompt if isinstance(prompt, str) else ""


def anthropic_user_text(request: dict[str, Any]) -> str:
    """Anthropic Messages: the text blocks of the last user message; if it has none, the text
    of its ``tool_result`` blocks."""
    content = _last_with_role(request.get("messages"), "user").get("content")
    text = _text_of(content, ("text",))
    if text or not isinstance(content, list):
        return text
    return "".join(
        _text_of(block.get("content"), ("text",))
        for block in content
        if isinstance(block, dict) and block.get("type") == "tool_result"
    )


def gemini_user_text(request: dict[str, Any]) -> str:
    """Gemini: the text parts of the last content with role user (a missing role is user)."""
    parts = _last_with_role(request.get("contents"), "user", "user").get("parts")
    if not isinstance(parts, list):
        return ""
    return "".join(
        p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
    )


def _first_tool_name(request: dict[str, Any]) -> str | None:
    """The name of the first tool that has one (``name`` or ``function.name``), or None when
    the request has no tools."""
    tools = request.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    for tool in tools:
        if isinstance(tool, dict):
            function = tool.get("function")
            name = function.get("name") if isinstance(function, dict) else tool.get("name")
            if isinstance(name, str) and name:
                return name
    return "tool"


def _gemini_tool_name(request: dict[str, Any]) -> str | None:
    """The name of the first Gemini function declaration, or None."""
    tools = request.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        declarations = tool.get("functionDeclarations") or tool.get("function_declarations")
        for declaration in declarations if isinstance(declarations, list) else []:
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                return declaration["name"]
    return None


# ── shared helpers ──────────────────────────────────────────────────────────────────────────


def _dumps(obj: Any) -> str:
    """Compact JSON with raw non-ASCII, as the providers send it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _arguments(text: str) -> str:
    """The JSON string of the tool-call arguments: ``{"text": <user text>}``."""
    return json.dumps({"text": text}, ensure_ascii=False)


def _tokens(text: str) -> int:
    """A rough, deterministic token count."""
    return max(1, len(text) // 4) if text else 0


def split_text(text: str, rng: random.Random) -> list[str]:
    """Cut ``text`` into consecutive pieces of 1–8 characters."""
    pieces = []
    pos = 0
    while pos < len(text):
        size = rng.randint(1, 8)
        pieces.append(text[pos : pos + size])
        pos += size
    return pieces


def _data(obj: Any) -> str:
    return f"data: {_dumps(obj)}\n\n"


def _event(obj: dict[str, Any]) -> str:
    return f"event: {obj['type']}\ndata: {_dumps(obj)}\n\n"


# ── OpenAI Chat Completions ─────────────────────────────────────────────────────────────────


def chat_completion(request: dict[str, Any], text: str, ident: str = "echo") -> dict[str, Any]:
    """A ``chat.completion`` object answering ``text`` (+ one tool call when tools are asked)."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text,
        "refusal": None,
        "annotations": [],
    }
    finish = "stop"
    name = _first_tool_name(request)
    if name is not None:
        function = {"name": name, "arguments": _arguments(text)}
        message["tool_calls"] = [{"id": f"call_{ident}", "type": "function", "function": function}]
        finish = "tool_calls"
    return {
        "id": f"chatcmpl-{ident}",
        "object": "chat.completion",
        "created": CREATED,
        "model": request.get("model", "echo"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": _chat_usage(request, text),
        "system_fingerprint": "fp_echo",
    }


def _chat_usage(request: dict[str, Any], text: str) -> dict[str, int]:
    prompt, completion = _tokens(_dumps(request)), _tokens(text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def chat_completion_events(
    request: dict[str, Any], text: str, ident: str, rng: random.Random
) -> Iterator[str]:
    """The SSE events of a streamed chat completion, ``data: [DONE]`` last."""
    options = request.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    name = _first_tool_name(request)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        obj: dict[str, Any] = {
            "id": f"chatcmpl-{ident}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": request.get("model", "echo"),
            "system_fingerprint": "fp_echo",
            "choices": [choice],
        }
        if include_usage:
            obj["usage"] = None
        return _data(obj)

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in split_text(text, rng):
        yield chunk({"content": piece})
    if name is not None:
        call = {
            "index": 0,
            "id": f"call_{ident}",
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        yield chunk({"tool_calls": [call]})
        for piece in split_text(_arguments(text), rng):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls" if name is not None else "stop")
    if include_usage:
        yield _data(
            {
                "id": f"chatcmpl-{ident}",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": request.get("model", "echo"),
                "system_fingerprint": "fp_echo",
                "choices": [],
                "usage": _chat_usage(request, text),
            }
        )
    yield "data: [DONE]\n\n"


# ── OpenAI Responses ────────────────────────────────────────────────────────────────────────


def _responses_message(text: str, ident: str, status: str = "completed") -> dict[str, Any]:
    content = [] if status != "completed" else [_output_text(text)]
    return {
        "id": f"msg_{ident}",
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _responses_call(name: str, text: str, ident: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": f"fc_{ident}",
        "type": "function_call",
        "status": status,
        "arguments": _arguments(text) if status == "completed" else "",
        "call_id": f"call_{ident}",
        "name": name,
    }


def response_object(
    request: dict[str, Any], text: str, ident: str = "echo", status: str = "completed"
) -> dict[str, Any]:
    """A Responses API ``response`` object; with ``status="in_progress"`` the empty one that
    opens a stream."""
    output: list[dict[str, Any]] = []
    name = _first_tool_name(request)
    if status == "completed":
        output.append(_responses_message(text, ident))
        if name is not None:
            output.append(_responses_call(name, text, ident))
    prompt, completion = _tokens(_dumps(request)), _tokens(text)
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": request.get("model", "echo"),
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": request.get("previous_response_id"),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage if status == "completed" else None,
        "metadata": {},
    }


def responses_events(
    request: dict[str, Any], text: str, ident: str, rng: random.Random
) -> Iterator[str]:
    """The SSE events of a streamed Responses API answer, ``response.completed`` last."""
    sequence = 0

    def event(kind: str, **fields: Any) -> str:
        nonlocal sequence
        obj = {"type": kind, "sequence_number": sequence, **fields}
        sequence += 1
        return _event(obj)

    started = response_object(request, text, ident, status="in_progress")
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)

    item = f"msg_{ident}"
    at = {"item_id": item, "output_index": 0, "content_index": 0}
    yield event(
        "response.output_item.added",
        output_index=0,
        item=_responses_message(text, ident, "in_progress"),
    )
    yield event("response.content_part.added", **at, part=_output_text(""))
    for piece in split_text(text, rng):
        yield event("response.output_text.delta", **at, delta=piece, logprobs=[])
    yield event("response.output_text.done", **at, text=text, logprobs=[])
    yield event("response.content_part.done", **at, part=_output_text(text))
    yield event("response.output_item.done", output_index=0, item=_responses_message(text, ident))

    name = _first_tool_name(request)
    if name is not None:
        call = {"item_id": f"fc_{ident}", "output_index": 1}
        yield event(
            "response.output_item.added",
            output_index=1,
            item=_responses_call(name, text, ident, "in_progress"),
        )
        for piece in split_text(_arguments(text), rng):
            yield event("response.function_call_arguments.delta", **call, delta=piece)
        yield event(
            "response.function_call_arguments.done", **call, name=name, arguments=_arguments(text)
        )
        yield event(
            "response.output_item.done", output_index=1, item=_responses_call(name, text, ident)
        )
    yield event("response.completed", response=response_object(request, text, ident))


# ── OpenAI legacy completions and embeddings ────────────────────────────────────────────────


def text_completion(request: dict[str, Any], text: str, ident: str = "echo") -> dict[str, Any]:
    """A legacy ``text_completion`` object answering ``text``."""
    choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}
    return {
        "id": f"cmpl-{ident}",
        "object": "text_completion",
        "created": CREATED,
        "model": request.get("model", "echo"),
        "choices": [choice],
        "usage": _chat_usage(request, text),
    }


def text_completion_events(
    request: dict[str, Any], text: str, ident: str, rng: random.Random
) -> Iterator[str]:
    """The SSE events of a streamed legacy completion, ``data: [DONE]`` last."""

    def chunk(piece: str, finish: str | None = None) -> str:
        choice = {"text": piece, "index": 0, "logprobs": None, "finish_reason": finish}
        return _data(
            {
                "id": f"cmpl-{ident}",
                "object": "text_completion",
                "created": CREATED,
                "model": request.get("model", "echo"),
                "choices": [choice],
            }
        )

    for piece in split_text(text, rng):
        yield chunk(piece)
    yield chunk("", "stop")
    yield "data: [DONE]\n\n"


def _embedding(value: Any) -> list[float]:
    """A small deterministic unit-free vector for one input."""
    digest = hashlib.sha256(_dumps(value).encode()).digest()
    return [round(b / 255 * 2 - 1, 6) for b in digest[:EMBEDDING_DIMENSIONS]]


def embeddings(request: dict[str, Any]) -> dict[str, Any]:
    """An embeddings ``list``: one vector per input (a string, a token list, or a list of
    either); ``encoding_format: "base64"`` packs little-endian float32 as OpenAI does."""
    data = request.get("input")
    if isinstance(data, list) and data and not all(isinstance(x, int) for x in data):
        inputs = data
    else:
        inputs = [data]
    items = []
    for index, value in enumerate(inputs):
        vector: Any = _embedding(value)
        if request.get("encoding_format") == "base64":
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        items.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(_tokens(_dumps(value)) for value in inputs)
    return {
        "object": "list",
        "data": items,
        "model": request.get("model", "echo"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# ── Anthropic Messages ──────────────────────────────────────────────────────────────────────


def anthropic_message(request: dict[str, Any], text: str, ident: str = "echo") -> dict[str, Any]:
    """An Anthropic ``message`` answering ``text`` (+ a ``tool_use`` block when tools are
    asked)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    name = _first_tool_name(request)
    if name is not None:
        tool_use = {"type": "tool_use", "id": f"toolu_{ident}", "name": name}
        content.append({**tool_use, "input": {"text": text}})
    return {
        "id": f"msg_{ident}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "echo"),
        "content": content,
        "stop_reason": "tool_use" if name is not None else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": _tokens(_dumps(request)), "output_tokens": _tokens(text)},
    }


def anthropic_events(
    request: dict[str, Any], text: str, ident: str, rng: random.Random
) -> Iterator[str]:
    """The SSE events of a streamed Anthropic message, ``message_stop`` last."""
    start = anthropic_message(request, text, ident)
    start.update(content=[], stop_reason=None)
    start["usage"] = {"input_tokens": start["usage"]["input_tokens"], "output_tokens": 1}
    yield _event({"type": "message_start", "message": start})
    yield _event(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    )
    yield _event({"type": "ping"})
    for piece in split_text(text, rng):
        delta = {"type": "text_delta", "text": piece}
        yield _event({"type": "content_block_delta", "index": 0, "delta": delta})
    yield _event({"type": "content_block_stop", "index": 0})
    name = _first_tool_name(request)
    if name is not None:
        block = {"type": "tool_use", "id": f"toolu_{ident}", "name": name, "input": {}}
        yield _event({"type": "content_block_start", "index": 1, "content_block": block})
        for piece in split_text(_arguments(text), rng):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield _event({"type": "content_block_delta", "index": 1, "delta": delta})
        yield _event({"type": "content_block_stop", "index": 1})
    yield _event(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": "tool_use" if name is not None else "end_turn",
                "stop_sequence": None,
            },
            "usage": {"output_tokens": _tokens(text)},
        }
    )
    yield _event({"type": "message_stop"})


# ── Gemini ──────────────────────────────────────────────────────────────────────────────────


def _gemini_chunk(
    request: dict[str, Any],
    model: str,
    ident: str,
    parts: list[dict[str, Any]],
    text: str,
    last: bool,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    obj: dict[str, Any] = {"candidates": [candidate]}
    if last:
        candidate["finishReason"] = "STOP"
        prompt, completion = _tokens(_dumps(request)), _tokens(text)
        obj["usageMetadata"] = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": completion,
            "totalTokenCount": prompt + completion,
        }
    obj.update(modelVersion=model, responseId=ident)
    return obj


def _gemini_call(request: dict[str, Any], text: str) -> list[dict[str, Any]]:
    name = _gemini_tool_name(request)
    return [] if name is None else [{"functionCall": {"name": name, "args": {"text": text}}}]


def gemini_response(
    request: dict[str, Any], text: str, model: str = "echo", ident: str = "echo"
) -> dict[str, Any]:
    """A ``GenerateContentResponse`` answering ``text`` (+ a ``functionCall`` part when
    function declarations are given)."""
    parts = [{"text": text}, *_gemini_call(request, text)]
    return _gemini_chunk(request, model, ident, parts, text, last=True)


def gemini_chunks(
    request: dict[str, Any], text: str, model: str, ident: str, rng: random.Random
) -> list[dict[str, Any]]:
    """The ``GenerateContentResponse`` chunks of a streamed answer: one text delta each, the
    last with ``finishReason`` and ``usageMetadata`` (and the ``functionCall`` part)."""
    pieces = split_text(text, rng) or [""]
    chunks = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        parts = [{"text": piece}, *(_gemini_call(request, text) if last else [])]
        chunks.append(_gemini_chunk(request, model, ident, parts, text, last))
    return chunks


def gemini_events(
    request: dict[str, Any], text: str, model: str, ident: str, rng: random.Random
) -> Iterator[str]:
    """``?alt=sse``: one ``data:`` event per chunk, CRLF-framed and with spaced JSON as Gemini
    sends them."""
    for chunk in gemini_chunks(request, text, model, ident, rng):
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\r\n\r\n"


def gemini_array(
    request: dict[str, Any], text: str, model: str, ident: str, rng: random.Random
) -> Iterator[str]:
    """Without ``alt=sse``: the chunks as one JSON array, streamed as Gemini does."""
    for i, chunk in enumerate(gemini_chunks(request, text, model, ident, rng)):
        yield ("[" if i == 0 else ",\r\n") + json.dumps(chunk, ensure_ascii=False, indent=2)
    yield "]"


# ── HTTP ────────────────────────────────────────────────────────────────────────────────────


def _tricky(data: bytes, i: int) -> bool:
    """Whether cutting after byte ``i`` splits a UTF-8 sequence or an event's blank line."""
    return data[i] >= 0xC0 or (data[i] in b"\r\n" and data[i + 1 : i + 2] in (b"\r", b"\n"))


def chunk_sizes(data: bytes, rng: random.Random) -> list[int]:
    """Random HTTP chunk sizes for ``data``: many tiny, some medium, a few large; and half the
    time a chunk ends at the first tricky place in its span (inside a UTF-8 sequence, between
    the two line ends that close an event), so every stream has such cuts."""
    sizes = []
    pos = 0
    while pos < len(data):
        r = rng.random()
        if r < 0.3:
            size = rng.randint(1, 3)
        elif r < 0.8:
            size = rng.randint(4, 40)
        else:
            size = rng.randint(41, 400)
        end = min(pos + size, len(data))
        if rng.random() < 0.5:
            end = next((i + 1 for i in range(pos, end - 1) if _tricky(data, i)), end)
        sizes.append(end - pos)
        pos = end
    return sizes


class BadRequest(Exception):
    """The request cannot be answered; the message goes back in a 400 JSON error."""


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits ~40 ms for Nagle
    server_version = "doppel-echo/0.1"
    recorder: Recorder  # set on the subclass made by make_server
    seed: int = 0
    stream_seconds: float = 0.0

    def log_message(self, format: str, *args: Any) -> None:
        pass  # bodies and paths may carry personal data; the recorder is the only record

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._send_json(status, {"error": {"message": message, "type": kind}})

    def _send_stream(self, pieces: Iterable[str], rng: random.Random, sse: bool = True) -> None:
        """Write ``pieces`` chunked, in random-size chunks spread over the stream seconds."""
        seconds = self._stream_seconds()
        data = "".join(pieces).encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream" if sse else "application/json")
        if sse:
            self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        sizes = chunk_sizes(data, rng)
        pause = seconds / len(sizes) if sizes else 0.0
        pos = 0
        try:
            for size in sizes:
                self.wfile.write(b"%x\r\n%s\r\n" % (size, data[pos : pos + size]))
                pos += size
                if pause:
                    time.sleep(pause)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to tell it

    def _seed(self) -> int:
        value = self.headers.get("x-echo-seed")
        try:
            return self.seed if value is None else int(value)
        except ValueError:
            raise BadRequest("x-echo-seed must be an integer") from None

    def _stream_seconds(self) -> float:
        value = self.headers.get("x-echo-stream-seconds")
        try:
            seconds = self.stream_seconds if value is None else float(value)
        except ValueError:
            raise BadRequest("x-echo-stream-seconds must be a number") from None
        if not 0 <= seconds <= 600:
            raise BadRequest("x-echo-stream-seconds must be between 0 and 600")
        return seconds

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def do_GET(self) -> None:
        if self.path == "/_received":
            self._send_json(200, self.recorder.all())
        else:
            self._error(404, "not found", "not_found")

    def do_DELETE(self) -> None:
        if self.path == "/_received":
            self.recorder.clear()
            self._send_json(200, [])
        else:
            self._error(404, "not found", "not_found")

    def do_POST(self) -> None:
        body = self._read_body()
        self.recorder.add(body)
        route, _, query = self.path.partition("?")
        try:
            request = json.loads(body)
        except ValueError:
            self._error(400, "body is not JSON", "invalid_request_error")
            return
        if not isinstance(request, dict):
            self._error(400, "body is not a JSON object", "invalid_request_error")
            return
        try:
            self._answer(route, query, request, hashlib.sha256(body).hexdigest()[:24])
        except BadRequest as exc:
            self._error(400, str(exc), "invalid_request_error")

    def _answer(self, route: str, query: str, request: dict[str, Any], ident: str) -> None:
        """Dispatch one POST to its API, buffered or streamed."""
        stream = request.get("stream") is True
        rng = random.Random(self._seed())
        self._stream_seconds()  # reject a bad header before answering
        gemini = _GEMINI_ROUTE.search(route)
        if route.endswith("/chat/completions"):
            text = last_user_text(request)
            if stream:
                self._send_stream(chat_completion_events(request, text, ident, rng), rng)
            else:
                self._send_json(200, chat_completion(request, text, ident))
        elif route.endswith("/responses"):
            text = responses_user_text(request)
            # A stateful API: the provider remembers earlier answers, so an answer can repeat
            # text (doubles, through Doppel) that this request does not carry.
            earlier = self.recorder.recall(str(request.get("previous_response_id") or ""))
            if earlier is not None:
                text = f"{earlier}\n{text}"
            self.recorder.remember(f"resp_{ident}", text)
            if stream:
                self._send_stream(responses_events(request, text, ident, rng), rng)
            else:
                self._send_json(200, response_object(request, text, ident))
        elif route.endswith("/completions"):
            text = completion_prompt(request)
            if stream:
                self._send_stream(text_completion_events(request, text, ident, rng), rng)
            else:
                self._send_json(200, text_completion(request, text, ident))
        elif route.endswith("/embeddings"):
            self._send_json(200, embeddings(request))
        elif route.endswith("/messages/count_tokens"):
            self._send_json(200, {"input_tokens": _tokens(_dumps(request))})
        elif route.endswith("/messages"):
            text = anthropic_user_text(request)
            if stream:
                self._send_stream(anthropic_events(request, text, ident, rng), rng)
            else:
                self._send_json(200, anthropic_message(request, text, ident))
        elif gemini:
            model, method = gemini.groups()
            text = gemini_user_text(request)
            if method == "generateContent":
                self._send_json(200, gemini_response(request, text, model, ident))
            elif parse_qs(query).get("alt") == ["sse"]:
                self._send_stream(gemini_events(request, text, model, ident, rng), rng)
            else:
                self._send_stream(gemini_array(request, text, model, ident, rng), rng, sse=False)
        else:
            self._error(HTTPStatus.NOT_FOUND, f"echo provider has no route {route}", "not_found")


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, seed: int = 0, stream_seconds: float = 0.0
) -> tuple[ThreadingHTTPServer, Recorder]:
    """An echo provider bound to ``host:port`` (not yet serving) and its recorder. ``seed`` and
    ``stream_seconds`` are the defaults for requests without ``x-echo-seed`` /
    ``x-echo-stream-seconds``."""
    recorder = Recorder()
    attrs = {"recorder": recorder, "seed": seed, "stream_seconds": stream_seconds}
    handler = type("BoundEchoHandler", (EchoHandler,), attrs)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, recorder

"""Body codecs: where the text is in each API's JSON, masked on the way out and restored on the
way back, buffered or streamed. The codec is chosen by request path, never by guessing from
content. Unknown JSON APIs get every string masked except structural keys."""

from __future__ import annotations

from dataclasses import dataclass

from engine.codecs.fields import Field, Kind, edit_strings, field_for, fields
from engine.codecs.jsontext import JSONTextError, StringValue
from engine.codecs.sse import (
    Rules,
    SSEStream,
    anthropic_rules,
    gemini_rules,
    openai_chat_rules,
    openai_responses_rules,
    whole_events_rules,
)
from engine.masking import MaskSession
from engine.restore import Restorer

__all__ = ["GENERIC", "Codec", "JSONTextError", "SSEStream", "codec_for"]

# Keys whose string values are structure, not text, in JSON of unknown APIs.
STRUCTURAL_KEYS = frozenset(
    {
        "model",
        "role",
        "type",
        "object",
        "id",
        "name",
        "tool_choice",
        "finish_reason",
        "stop_reason",
        "status",
        "format",
        "encoding_format",
        "response_format",
        "mime_type",
        "mimeType",
        "media_type",
        "detail",
        "voice",
        "service_tier",
        "reasoning_effort",
        "event",
    }
)


def _is_structural(key: str | int) -> bool:
    return isinstance(key, str) and (key in STRUCTURAL_KEYS or key.endswith(("_id", "Id")))


@dataclass(frozen=True)
class Codec:
    """One API: its request text fields and response text fields (``None``: every string
    value of an unknown API, structural keys excepted)."""

    name: str
    request_fields: tuple[Field, ...] | None
    response_fields: tuple[Field, ...] | None
    stream_rules: Rules = whole_events_rules

    def _select(self, table: tuple[Field, ...] | None):  # type: ignore[no-untyped-def]
        def select(sv: StringValue) -> Kind | None:
            if table is None:
                return None if sv.path and _is_structural(sv.path[-1]) else Kind.TEXT
            f = field_for(sv.path, table)
            return f.kind if f else None

        return select

    def mask_request(self, body: bytes, session: MaskSession) -> bytes:
        raw = decode(body)
        masked = edit_strings(raw, self._select(self.request_fields), session.mask_many)
        return body if masked is raw else masked.encode()

    def restore_response(self, body: bytes, restorer: Restorer) -> bytes:
        if not restorer:
            return body
        raw = decode(body)
        restored = edit_strings(
            raw,
            self._select(self.response_fields),
            lambda texts: [restorer.restore(t) for t in texts],
        )
        return body if restored is raw else restored.encode()

    def stream(self, restorer: Restorer) -> SSEStream:
        """A restorer for this API's ``text/event-stream`` answer."""
        return SSEStream(self.stream_rules, restorer)


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONTextError(f"body is not UTF-8 (byte {exc.start})") from None


OPENAI_CHAT = Codec(
    "openai.chat",
    fields(
        "messages.*.content",
        "messages.*.content.*.text",
        "messages.*.name",
        "messages.*.refusal",
        json=["messages.*.tool_calls.*.function.arguments", "messages.*.function_call.arguments"],
    ),
    fields(
        "choices.*.message.content",
        "choices.*.message.refusal",
        json=[
            "choices.*.message.tool_calls.*.function.arguments",
            "choices.*.message.function_call.arguments",
        ],
    ),
    openai_chat_rules,
)
OPENAI_RESPONSES = Codec(
    "openai.responses",
    fields(
        "input",
        "input.*.content",
        "input.*.content.*.text",
        "input.*.output",
        "input.*.output.*.text",
        "instructions",
        json=["input.*.arguments"],
    ),
    fields(
        "output.*.content.*.text",
        "output.*.content.*.refusal",
        "output.*.summary.*.text",
        "output_text",
        "instructions",  # the response object echoes the request's instructions
        json=["output.*.arguments"],
    ),
    openai_responses_rules,
)
OPENAI_COMPLETIONS = Codec(
    "openai.completions",
    fields("prompt", "prompt.*", "suffix"),
    fields("choices.*.text"),
    openai_chat_rules,
)
OPENAI_EMBEDDINGS = Codec("openai.embeddings", fields("input", "input.*"), ())
ANTHROPIC_MESSAGES = Codec(
    "anthropic.messages",
    fields(
        "system",
        "system.*.text",
        "messages.*.content",
        "messages.*.content.*.text",
        "messages.*.content.*.input.**",
        "messages.*.content.*.content",
        "messages.*.content.*.content.*.text",
    ),
    fields("content.*.text", "content.*.input.**"),
    anthropic_rules,
)
GEMINI = Codec(
    "gemini.generate",
    fields(
        "contents.*.parts.*.text",
        "systemInstruction.parts.*.text",
        "system_instruction.parts.*.text",
        "contents.*.parts.*.functionCall.args.**",
        "contents.*.parts.*.function_call.args.**",
        "contents.*.parts.*.functionResponse.response.**",
        "contents.*.parts.*.function_response.response.**",
    ),
    fields(
        "candidates.*.content.parts.*.text", "candidates.*.content.parts.*.functionCall.args.**"
    ),
    gemini_rules,
)
GENERIC = Codec("generic", None, None)


def codec_for(path: str) -> Codec:
    """The codec for a request path (query string ignored)."""
    route = path.split("?", 1)[0].rstrip("/")
    if route.endswith("/chat/completions"):
        return OPENAI_CHAT
    if route.endswith("/responses"):
        return OPENAI_RESPONSES
    if route.endswith("/completions"):
        return OPENAI_COMPLETIONS
    if route.endswith("/embeddings"):
        return OPENAI_EMBEDDINGS
    if route.endswith(("/messages", "/messages/count_tokens")):
        return ANTHROPIC_MESSAGES
    if route.endswith((":generateContent", ":streamGenerateContent", ":countTokens")):
        return GEMINI
    return GENERIC

"""Body codecs: where the text is in each API's JSON, masked on the way out, restored on the way
back. Chosen by request path, never by guessing from content."""

from __future__ import annotations

from dataclasses import dataclass

from engine.codecs.jsontext import JSONTextError, StringValue, iter_strings, splice
from engine.masking import MaskSession
from engine.restore import Restorer

__all__ = ["Codec", "JSONTextError", "codec_for"]

FieldPattern = tuple[str | int, ...]
ANY = "*"


def _matches(pattern: FieldPattern, path: tuple[str | int, ...]) -> bool:
    return len(pattern) == len(path) and all(p == ANY or p == x for p, x in zip(pattern, path))


@dataclass(frozen=True)
class Codec:
    """One API's text fields. ``request_fields=None`` means every string value except those
    under the structural keys in ``structural``; ``response_fields=None`` every string value."""

    name: str
    request_fields: tuple[FieldPattern, ...] | None
    response_fields: tuple[FieldPattern, ...] | None
    structural: frozenset[str] = frozenset()

    def _is_request_text(self, sv: StringValue) -> bool:
        if self.request_fields is None:
            return not (sv.path and sv.path[-1] in self.structural)
        return any(_matches(p, sv.path) for p in self.request_fields)

    def mask_request(self, body: bytes, session: MaskSession) -> bytes:
        raw = _decode(body)
        fields = [sv for sv in iter_strings(raw) if self._is_request_text(sv)]
        masked = session.mask_many([sv.value for sv in fields])
        edits = [(sv, new) for sv, new in zip(fields, masked) if new != sv.value]
        return splice(raw, edits).encode() if edits else body

    def restore_response(self, body: bytes, restorer: Restorer) -> bytes:
        if not restorer:
            return body
        raw = _decode(body)
        edits = []
        for sv in iter_strings(raw):
            if self.response_fields is None or any(
                _matches(p, sv.path) for p in self.response_fields
            ):
                restored = restorer.restore(sv.value)
                if restored != sv.value:
                    edits.append((sv, restored))
        return splice(raw, edits).encode() if edits else body


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONTextError(f"body is not UTF-8 (byte {exc.start})") from None


OPENAI_CHAT = Codec(
    name="openai.chat",
    request_fields=(
        ("messages", ANY, "content"),
        ("messages", ANY, "content", ANY, "text"),
    ),
    response_fields=(("choices", ANY, "message", "content"),),
)

GENERIC = Codec(
    name="generic",
    request_fields=None,
    response_fields=None,
    structural=frozenset({"model", "role", "type", "id", "object", "name", "tool_choice"}),
)


def codec_for(path: str) -> Codec:
    """The codec for a request path (query string ignored)."""
    route = path.split("?", 1)[0]
    if route.endswith("/chat/completions"):
        return OPENAI_CHAT
    return GENERIC

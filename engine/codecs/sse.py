"""Restore a streamed (SSE) answer event by event, with doubles split across events.

Each API's rules say which string of an event is a *delta* of a logical text field (OpenAI's
``choices[i].delta.content``, Anthropic's ``text_delta`` per block index, ...), which event
*ends* a field, and everything else in an event is restored whole (``.done`` events and
``response.completed`` repeat whole texts). Every logical field gets its own
:class:`~engine.restore.StreamingRestorer`: an event goes out as soon as it is complete, its delta
replaced by what the restorer can emit now; held-back text goes out with the next delta of that
field, or, when the field ends, in a copy of its last delta event sent just before the end.
Events are never merged; order, ids, comments and keep-alives are kept byte for byte.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from engine.codecs.jsontext import StringValue, iter_strings, splice
from engine.restore import Restorer, StreamingRestorer

log = logging.getLogger(__name__)

Path = tuple[str | int, ...]
Key = tuple[Hashable, ...]
ALL: Key = ()  # the prefix of every key: "every field ends here"


@dataclass
class Ops:
    """What one event means: delta paths with the key of their logical field, and the fields
    it ends, given as key prefixes (``(choice,)`` ends every field of that choice)."""

    deltas: dict[Path, Key] = field(default_factory=dict)
    ends: list[Key] = field(default_factory=list)

    def ends_field(self, key: Key) -> bool:
        return any(key[: len(prefix)] == prefix for prefix in self.ends)


Rules = Callable[[str | None, Any], Ops]

_EVENT_END = re.compile(r"\r\n\r\n|\n\n|\r\r")
_STRUCTURAL = frozenset(
    {
        "type",
        "id",
        "object",
        "model",
        "role",
        "event",
        "finish_reason",
        "stop_reason",
        "status",
        "name",
        "finishReason",
        "item_id",
    }
)


class SSEStream:
    """Feed raw response bytes, get restored bytes to send now; ``finish()`` at end of stream."""

    def __init__(self, rules: Rules, restorer: Restorer) -> None:
        self._rules = rules
        self._restorer = restorer
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self._fields: dict[Key, StreamingRestorer] = {}
        self._last_delta: dict[Key, tuple[str, str | None, dict[Path, Key], str]] = {}
        self.events = 0

    def feed(self, data: bytes) -> bytes:
        self._pending += self._decoder.decode(data)
        out: list[str] = []
        while True:
            m = _EVENT_END.search(self._pending)
            if m is None:
                break
            block, self._pending = self._pending[: m.end()], self._pending[m.end() :]
            out.append(self._event(block))
        return "".join(out).encode()

    def finish(self) -> bytes:
        tail = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        out = [self._event(tail)] if tail else []
        out.append(self._end_fields(list(self._fields)))
        return "".join(out).encode()

    # -- one event ---------------------------------------------------------------------------

    def _event(self, block: str) -> str:
        self.events += 1
        lines = block.splitlines(keepends=True)
        event_name = None
        data_lines = []
        for i, line in enumerate(lines):
            name, _, value = line.rstrip("\r\n").partition(":")
            if name == "event":
                event_name = value.removeprefix(" ")
            elif name == "data":
                data_lines.append((i, value.removeprefix(" ")))
        if not data_lines:
            return block  # comment, keep-alive, retry: untouched
        data = "\n".join(v for _, v in data_lines)
        try:
            prefix, new_data = self._data(event_name, data)
        except Exception as exc:  # malformed event: restore as text, never break the stream
            log.warning("SSE event not understood (%s); restored as text", type(exc).__name__)
            prefix, new_data = "", self._restorer.restore(data)
        if new_data == data:
            return prefix + block
        return prefix + _rebuild(lines, data_lines, new_data)

    def _data(self, event_name: str | None, data: str) -> tuple[str, str]:
        if data.strip() == "[DONE]":
            return self._end_fields(list(self._fields)), data
        try:
            obj = json.loads(data)
        except ValueError:
            return "", self._restorer.restore(data)
        ops = self._rules(event_name, obj)
        edits: list[tuple[StringValue, str]] = []
        flushed: set[Key] = set()
        for sv in iter_strings(data):
            key = ops.deltas.get(sv.path)
            if key is not None:
                stream = self._fields.get(key)
                if stream is None:
                    stream = self._fields[key] = self._restorer.stream()
                new = stream.feed(sv.value)
                if ops.ends_field(key):
                    new += stream.flush()
                    flushed.add(key)
                self._last_delta[key] = (data, event_name, ops.deltas, _path_key(sv.path))
            elif sv.path and sv.path[-1] in _STRUCTURAL:
                continue
            else:
                new = self._restorer.restore(sv.value)
            if new != sv.value:
                edits.append((sv, new))
        ending = [k for k in self._fields if k not in flushed and ops.ends_field(k)]
        prefix = self._end_fields(ending)
        return prefix, splice(data, edits) if edits else data

    def _end_fields(self, keys: list[Key]) -> str:
        """Flush ended fields; held-back text goes out in a copy of the field's last delta event."""
        out = []
        for key in keys:
            stream = self._fields.pop(key, None)
            if stream is None:
                continue
            rest = stream.flush()
            last = self._last_delta.pop(key, None)
            if rest and last is not None:
                data, event_name, deltas, path_key = last
                edits = [
                    (sv, rest if _path_key(sv.path) == path_key else "")
                    for sv in iter_strings(data)
                    if sv.path in deltas
                ]
                head = f"event: {event_name}\n" if event_name else ""
                out.append(f"{head}data: {splice(data, edits)}\n\n")
        return "".join(out)


def _path_key(path: Path) -> str:
    return json.dumps(path)


def _rebuild(lines: list[str], data_lines: list[tuple[int, str]], new_data: str) -> str:
    first = data_lines[0][0]
    ending = lines[first][len(lines[first].rstrip("\r\n")) :] or "\n"
    drop = {i for i, _ in data_lines}
    out = []
    for i, line in enumerate(lines):
        if i == first:
            out.extend(f"data: {part}{ending}" for part in new_data.split("\n"))
        elif i not in drop:
            out.append(line)
    return "".join(out)


# -- the rules of each API ------------------------------------------------------------------------


def _index(obj: dict[str, Any], position: int) -> Any:
    value = obj.get("index", position)
    return value if isinstance(value, int) else position


def openai_chat_rules(event: str | None, obj: Any) -> Ops:
    ops = Ops()
    if not isinstance(obj, dict):
        return ops
    for i, choice in enumerate(obj.get("choices") or []):
        if not isinstance(choice, dict):
            continue
        n = _index(choice, i)
        delta = choice.get("delta") or {}
        base = ("choices", i, "delta")
        for name in ("content", "refusal"):
            if isinstance(delta.get(name), str):
                ops.deltas[(*base, name)] = (n, name)
        for j, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, dict):
                ops.deltas[(*base, "tool_calls", j, "function", "arguments")] = (
                    n,
                    "tool",
                    _index(call, j),
                )
        if isinstance(delta.get("function_call"), dict):
            ops.deltas[(*base, "function_call", "arguments")] = (n, "function_call")
        if isinstance(choice.get("text"), str):  # legacy completions
            ops.deltas[("choices", i, "text")] = (n, "text")
        if choice.get("finish_reason"):
            ops.ends.append((n,))
    return ops


_RESPONSES_DELTAS = {
    "response.output_text.delta": "text",
    "response.refusal.delta": "refusal",
    "response.function_call_arguments.delta": "args",
    "response.reasoning_summary_text.delta": "summary",
}
_RESPONSES_DONE = {k.replace(".delta", ".done"): v for k, v in _RESPONSES_DELTAS.items()}


def openai_responses_rules(event: str | None, obj: Any) -> Ops:
    ops = Ops()
    if not isinstance(obj, dict):
        return ops
    kind = obj.get("type", event)
    where = (obj.get("item_id"), obj.get("output_index"), obj.get("content_index"))
    if kind in _RESPONSES_DELTAS:
        ops.deltas[("delta",)] = (_RESPONSES_DELTAS[kind], *where)
    elif kind in _RESPONSES_DONE:
        ops.ends.append((_RESPONSES_DONE[kind], *where))
    elif kind in ("response.completed", "response.incomplete", "response.failed"):
        ops.ends.append(ALL)
    return ops


def anthropic_rules(event: str | None, obj: Any) -> Ops:
    ops = Ops()
    if not isinstance(obj, dict):
        return ops
    kind = obj.get("type", event)
    if kind == "content_block_delta":
        block = obj.get("index", 0)
        delta = obj.get("delta") or {}
        for name in ("text", "partial_json", "thinking"):
            if isinstance(delta.get(name), str):
                ops.deltas[("delta", name)] = ("block", block)
    elif kind == "content_block_stop":
        ops.ends.append(("block", obj.get("index", 0)))
    elif kind == "message_stop":
        ops.ends.append(ALL)
    return ops


def gemini_rules(event: str | None, obj: Any) -> Ops:
    ops = Ops()
    if not isinstance(obj, dict):
        return ops
    for i, candidate in enumerate(obj.get("candidates") or []):
        if not isinstance(candidate, dict):
            continue
        n = _index(candidate, i)
        parts = (candidate.get("content") or {}).get("parts") or []
        for j, part in enumerate(parts):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                ops.deltas[("candidates", i, "content", "parts", j, "text")] = ("text", n)
        if candidate.get("finishReason"):
            ops.ends.append(("text", n))
    return ops


def whole_events_rules(event: str | None, obj: Any) -> Ops:
    """Unknown APIs: every event is restored on its own."""
    return Ops()

"""Find and replace string values inside raw JSON without re-encoding anything else.

Masking must not change a body beyond the strings it masks: numbers keep their formatting,
escapes and key order stay, whitespace stays. So instead of ``loads``/``dumps`` this walks
the raw text, yields every string *value* with its path (keys and indexes from the root), and
splices new string literals in place. Strings are decoded with the stdlib's C scanner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]

Path = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class JSONTextError(ValueError):
    """The body is not valid JSON. The message says where, never what."""


@dataclass(frozen=True, slots=True)
class StringValue:
    path: Path
    start: int  # offset of the opening quote
    end: int  # offset after the closing quote
    value: str


def iter_strings(raw: str) -> Iterator[StringValue]:
    """Every string value in ``raw`` (object keys are part of paths, not values), in order."""
    pos = _skip_ws(raw, 0)
    pos = yield from _value(raw, pos, ())
    if _skip_ws(raw, pos) != len(raw):
        raise JSONTextError(f"trailing data at offset {pos}")


def _skip_ws(raw: str, pos: int) -> int:
    return _WS.match(raw, pos).end()  # type: ignore[union-attr]


MAX_DEPTH = 128


def _value(raw: str, pos: int, path: Path) -> Iterator[StringValue]:
    if len(path) > MAX_DEPTH:
        raise JSONTextError(f"nested deeper than {MAX_DEPTH} levels")
    if pos >= len(raw):
        raise JSONTextError("unexpected end of JSON")
    ch = raw[pos]
    if ch == '"':
        value, end = _string(raw, pos)
        yield StringValue(path, pos, end, value)
        return end
    if ch == "{":
        return (yield from _object(raw, pos, path))
    if ch == "[":
        return (yield from _array(raw, pos, path))
    m = _SCALAR.match(raw, pos)
    if m is None:
        raise JSONTextError(f"unexpected character at offset {pos}")
    return m.end()


def _string(raw: str, pos: int) -> tuple[str, int]:
    try:
        return scanstring(raw, pos + 1, True)
    except json.JSONDecodeError as exc:
        raise JSONTextError(f"bad string at offset {exc.pos}") from None


def _object(raw: str, pos: int, path: Path) -> Iterator[StringValue]:
    pos = _skip_ws(raw, pos + 1)
    if raw.startswith("}", pos):
        return pos + 1
    while True:
        if not raw.startswith('"', pos):
            raise JSONTextError(f"expected a key at offset {pos}")
        key, pos = _string(raw, pos)
        pos = _skip_ws(raw, pos)
        if not raw.startswith(":", pos):
            raise JSONTextError(f"expected ':' at offset {pos}")
        pos = _skip_ws(raw, pos + 1)
        pos = yield from _value(raw, pos, (*path, key))
        pos = _skip_ws(raw, pos)
        if raw.startswith(",", pos):
            pos = _skip_ws(raw, pos + 1)
        elif raw.startswith("}", pos):
            return pos + 1
        else:
            raise JSONTextError(f"expected ',' or '}}' at offset {pos}")


def _array(raw: str, pos: int, path: Path) -> Iterator[StringValue]:
    pos = _skip_ws(raw, pos + 1)
    if raw.startswith("]", pos):
        return pos + 1
    index = 0
    while True:
        pos = yield from _value(raw, pos, (*path, index))
        index += 1
        pos = _skip_ws(raw, pos)
        if raw.startswith(",", pos):
            pos = _skip_ws(raw, pos + 1)
        elif raw.startswith("]", pos):
            return pos + 1
        else:
            raise JSONTextError(f"expected ',' or ']' at offset {pos}")


def encode_like(value: str, original_literal: str) -> str:
    """A JSON literal for ``value`` in the escaping style of the literal it replaces: a body
    that escaped all non-ASCII (``\\u00e9``) keeps doing so."""
    return json.dumps(value, ensure_ascii=original_literal.isascii())


def splice(raw: str, edits: list[tuple[StringValue, str]]) -> str:
    """Replace the given string values (in document order) with new values."""
    out: list[str] = []
    pos = 0
    for sv, new in edits:
        out.append(raw[pos : sv.start])
        out.append(encode_like(new, raw[sv.start : sv.end]))
        pos = sv.end
    out.append(raw[pos:])
    return "".join(out)

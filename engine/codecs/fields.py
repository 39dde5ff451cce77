"""Which strings of a JSON body carry user or model text, and what to do with them.

A field is a path pattern over :class:`~engine.codecs.jsontext.StringValue` paths: literal keys
and indexes, ``*`` for any one step, ``**`` for any remaining steps (a tool's arguments object).
A ``JSON`` field is a string that itself holds JSON (OpenAI's ``function.arguments``): its
string values are edited inside, and if it does not parse it is treated as text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from engine.codecs.jsontext import JSONTextError, StringValue, iter_strings, splice

Step = str | int
ANY = "*"
REST = "**"


class Kind(Enum):
    TEXT = "text"
    JSON = "json"  # a string that holds JSON


@dataclass(frozen=True)
class Field:
    pattern: tuple[Step, ...]
    kind: Kind = Kind.TEXT

    def matches(self, path: tuple[Step, ...]) -> bool:
        pattern = self.pattern
        if pattern and pattern[-1] == REST:
            head = pattern[:-1]
            return len(path) >= len(head) and _match(head, path[: len(head)])
        return len(pattern) == len(path) and _match(pattern, path)


def _match(pattern: Sequence[Step], path: Sequence[Step]) -> bool:
    return all(p == ANY or p == x for p, x in zip(pattern, path))


def fields(*specs: str, json: Sequence[str] = ()) -> tuple[Field, ...]:
    """Build fields from dotted specs: ``"messages.*.content.*.text"``."""

    def parse(spec: str) -> tuple[Step, ...]:
        return tuple(int(s) if s.isdigit() else s for s in spec.split("."))

    return tuple(Field(parse(s)) for s in specs) + tuple(Field(parse(s), Kind.JSON) for s in json)


def field_for(path: tuple[Step, ...], table: Sequence[Field]) -> Field | None:
    for f in table:
        if f.matches(path):
            return f
    return None


# -- editing a body ----------------------------------------------------------------------------

Selector = Callable[[StringValue], Kind | None]
TextsEditor = Callable[[list[str]], list[str]]


def edit_strings(raw: str, select: Selector, edit: TextsEditor) -> str:
    """Apply ``edit`` to every selected string of ``raw`` (in one batch) and splice the results.

    ``JSON`` strings are opened: their own string values join the same batch, so one call sees
    every text of a body (the masker needs that to keep doubles distinct from all originals).
    """
    plan: list[tuple[StringValue, Kind, list[StringValue] | None]] = []
    texts: list[str] = []
    for sv in iter_strings(raw):
        kind = select(sv)
        if kind is None:
            continue
        inner = _inner_strings(sv.value) if kind is Kind.JSON else None
        plan.append((sv, kind, inner))
        texts.extend(i.value for i in inner) if inner is not None else texts.append(sv.value)
    if not plan:
        return raw
    results = iter(edit(texts))
    edits: list[tuple[StringValue, str]] = []
    for sv, _kind, inner in plan:
        if inner is None:
            new = next(results)
        else:
            inner_edits = [(i, next(results)) for i in inner]
            changed = [(i, v) for i, v in inner_edits if v != i.value]
            new = splice(sv.value, changed) if changed else sv.value
        if new != sv.value:
            edits.append((sv, new))
    return splice(raw, edits) if edits else raw


def _inner_strings(value: str) -> list[StringValue] | None:
    """The string values of a JSON document held in a string, or None when it is not JSON."""
    try:
        return list(iter_strings(value))
    except JSONTextError:
        return None

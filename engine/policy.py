"""What to do with each kind of personal data: the policy.

Per entity type an action — ``double`` (a consistent, restorable double: the default),
``placeholder`` (``[EMAIL_1]``, restorable), ``redact`` (``[EMAIL]``, one way), ``block`` (the
request is refused) or ``allow`` (left as is); allow-lists (values or patterns never masked) and
deny-lists (always masked); custom entity types (a pattern, an optional python-stdnum
validator, a double format); per-type score thresholds; and a mode: ``enforce`` or ``monitor``
(detect and report, forward unchanged). Built from plain data (YAML) and validated, with errors
that name the key.
"""

from __future__ import annotations

import importlib
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from engine.detectors.base import Pattern, PatternDetector, Verdict
from engine.entities import EntityType
from engine.spans import Span


class Action(Enum):
    DOUBLE = "double"
    PLACEHOLDER = "placeholder"
    REDACT = "redact"
    BLOCK = "block"
    ALLOW = "allow"


class Mode(Enum):
    ENFORCE = "enforce"
    MONITOR = "monitor"


class PolicyError(ValueError):
    """A policy definition is invalid; the message names the key."""


class Blocked(Exception):
    """The text holds a type the policy forbids sending. Carries types only, never values."""

    def __init__(self, types: set[str]) -> None:
        super().__init__(", ".join(sorted(types)))
        self.types = types


DENY_TYPE = "DENY_LISTED"


@dataclass(frozen=True)
class CustomType:
    """An entity type defined in configuration: found by ``pattern``, checked by an optional
    python-stdnum module (``validator: luhn``, ``iban``, ``us.ssn``...; it sees the value without
    separators, or only its digits, e.g. ``EMP-1234-5674`` → ``12345674``), and given doubles of
    ``double_format`` (``#`` digit, ``A`` upper-case letter, ``a`` lower-case letter, ``?``
    letter or digit, ``\\`` escapes; other characters are kept)."""

    name: str
    pattern: str
    validator: str = ""
    double_format: str = ""
    context: tuple[str, ...] = ()
    score: float = 0.9


def format_double(fmt: str, rng: random.Random) -> str:
    out = []
    escaped = False
    for ch in fmt:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "#":
            out.append(rng.choice("0123456789"))
        elif ch == "A":
            out.append(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        elif ch == "a":
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif ch == "?":
            out.append(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
        else:
            out.append(ch)
    return "".join(out)


def _custom_detector(custom: CustomType) -> PatternDetector:
    validate_module = None
    if custom.validator:
        try:
            validate_module = importlib.import_module(f"stdnum.{custom.validator}")
        except ImportError:
            raise PolicyError(
                f"custom_types.{custom.name}.validator: no python-stdnum module "
                f"{custom.validator!r} (e.g. luhn, iban, us.ssn)"
            ) from None

    def validate(self: PatternDetector, value: str) -> Verdict:
        if validate_module is None:
            return Verdict(True)
        # the validator sees the value without separators; checksum-only modules its digits
        compact = re.sub(r"[\W_]", "", value)
        digits = re.sub(r"\D", "", value)
        ok = validate_module.is_valid(compact) or (
            digits != compact and validate_module.is_valid(digits)
        )
        return Verdict(bool(ok), True)

    attrs = {
        "ENTITY": custom.name,
        "PATTERNS": (Pattern(custom.name, custom.pattern, custom.score),),
        "CONTEXT": custom.context,
        "CONTEXT_REQUIRED": bool(custom.context),
        "validate": validate,
    }
    return type(f"Custom_{custom.name}", (PatternDetector,), attrs)()


class _ListMatcher:
    """Values and ``re:`` patterns, matched against a whole detected value (case-insensitive)."""

    def __init__(self, items: tuple[str, ...], where: str) -> None:
        self.values = {i.casefold() for i in items if not i.startswith("re:")}
        try:
            self.patterns = [re.compile(i[3:], re.IGNORECASE) for i in items if i.startswith("re:")]
        except re.error as exc:
            raise PolicyError(f"{where}: bad pattern: {exc}") from None

    def __bool__(self) -> bool:
        return bool(self.values or self.patterns)

    def matches(self, value: str) -> bool:
        return value.casefold() in self.values or any(p.fullmatch(value) for p in self.patterns)

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        folded = text.casefold()
        for value in self.values:
            start = folded.find(value)
            while start >= 0:
                yield start, start + len(value)
                start = folded.find(value, start + 1)
        for p in self.patterns:
            for m in p.finditer(text):
                if m.end() > m.start():
                    yield m.span()


@dataclass
class Policy:
    name: str = "default"
    mode: Mode = Mode.ENFORCE
    default_action: Action = Action.DOUBLE
    actions: Mapping[str, Action] = field(default_factory=dict)
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)
    custom_types: tuple[CustomType, ...] = ()
    report_header: bool = False

    def __post_init__(self) -> None:
        self._allow = _ListMatcher(self.allow, f"policies.{self.name}.allow")
        self._deny = _ListMatcher(self.deny, f"policies.{self.name}.deny")
        self.detectors = [_custom_detector(c) for c in self.custom_types]
        self._formats = {c.name: c.double_format for c in self.custom_types if c.double_format}

    def action(self, entity_type: str) -> Action:
        return self.actions.get(entity_type, self.default_action)

    def double_format(self, entity_type: str) -> str | None:
        return self._formats.get(entity_type)

    def extra_spans(self, text: str) -> list[Span]:
        """Spans of the policy's own types: custom types and deny-listed values."""
        spans = [s for d in self.detectors for s in d.detect(text)]
        spans += [Span(a, b, DENY_TYPE, 1.0, True, None, "deny") for a, b in self._deny.find(text)]
        return spans

    def keeps(self, span: Span, value: str) -> bool:
        """Whether a detection stays: above its threshold and not allow-listed."""
        if span.score < self.thresholds.get(span.type, 0.0):
            return False
        return not (self._allow and self._allow.matches(value))

    @classmethod
    def placeholders(cls, types: frozenset[str] | tuple[str, ...]) -> Policy:
        return cls(actions={t: Action.PLACEHOLDER for t in types})

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any], known_types: set[str]) -> Policy:
        """Build and validate a policy from configuration data."""
        where = f"policies.{name}"
        allowed = {
            "mode",
            "default_action",
            "actions",
            "allow",
            "deny",
            "thresholds",
            "custom_types",
            "report_header",
        }
        for key in data:
            if key not in allowed:
                raise PolicyError(
                    f"{where}.{key}: unknown key; known keys: {', '.join(sorted(allowed))}"
                )
        customs = tuple(_custom(where, i, c) for i, c in enumerate(data.get("custom_types") or []))
        types = known_types | {c.name for c in customs} | {DENY_TYPE}

        def enum(value: Any, kind: type[Enum], key: str) -> Any:
            try:
                return kind(value)
            except ValueError:
                raise PolicyError(
                    f"{key}: must be one of {', '.join(m.value for m in kind)}, got {value!r}"
                ) from None

        actions = {}
        for entity_type, action in (data.get("actions") or {}).items():
            if entity_type not in types:
                raise PolicyError(f"{where}.actions.{entity_type}: unknown entity type")
            actions[entity_type] = enum(action, Action, f"{where}.actions.{entity_type}")
        thresholds = {}
        for entity_type, value in (data.get("thresholds") or {}).items():
            if entity_type not in types:
                raise PolicyError(f"{where}.thresholds.{entity_type}: unknown entity type")
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise PolicyError(f"{where}.thresholds.{entity_type}: must be between 0 and 1")
            thresholds[entity_type] = float(value)
        for key in ("allow", "deny"):
            if not isinstance(data.get(key) or [], list):
                raise PolicyError(f"{where}.{key}: must be a list of values or 're:' patterns")
        return cls(
            name=name,
            mode=enum(data.get("mode", "enforce"), Mode, f"{where}.mode"),
            default_action=enum(
                data.get("default_action", "double"), Action, f"{where}.default_action"
            ),
            actions=actions,
            allow=tuple(str(v) for v in data.get("allow") or []),
            deny=tuple(str(v) for v in data.get("deny") or []),
            thresholds=thresholds,
            custom_types=customs,
            report_header=bool(data.get("report_header", False)),
        )


def _custom(where: str, index: int, data: Any) -> CustomType:
    key = f"{where}.custom_types[{index}]"
    if not isinstance(data, dict) or "name" not in data or "pattern" not in data:
        raise PolicyError(f"{key}: needs at least name and pattern")
    name = str(data["name"])
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or name in EntityType.__members__:
        raise PolicyError(f"{key}.name: use a new UPPER_CASE name, got {name!r}")
    try:
        re.compile(data["pattern"])
    except re.error as exc:
        raise PolicyError(f"{key}.pattern: {exc}") from None
    unknown = set(data) - {"name", "pattern", "validator", "double_format", "context", "score"}
    if unknown:
        raise PolicyError(f"{key}: unknown keys {', '.join(sorted(unknown))}")
    return CustomType(
        name=name,
        pattern=data["pattern"],
        validator=str(data.get("validator", "")),
        double_format=str(data.get("double_format", "")),
        context=tuple(data.get("context") or ()),
        score=float(data.get("score", 0.9)),
    )

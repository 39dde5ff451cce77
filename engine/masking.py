"""Detect, assign doubles, replace: the masking half of the engine, and the per-exchange mapping
that the restoring half is built from."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engine.catalog import restore_match
from engine.detectors.base import Detector
from engine.policy import Action, Blocked, Mode, Policy, format_double
from engine.restore import Replacement, Restorer
from engine.spans import Span, resolve_overlaps

log = logging.getLogger(__name__)


class DoubleMaker(Protocol):
    """Makes the double of an original (``engine.doubles.Pseudonymizer`` is the real one)."""

    def double(
        self, entity_type: str, original: str, subtype: str | None = None, attempt: int = 0
    ) -> str: ...

    def seed(self, entity_type: str, original: str, attempt: int = 0) -> bytes: ...

    def for_tenant(self, tenant: str) -> DoubleMaker: ...


KEY_ENV = "DOPPEL_KEY"
MAX_ATTEMPTS = 32


def key_from_env() -> bytes:
    """The HMAC key doubles are derived from: ``$DOPPEL_KEY``, else a random per-process key.

    A random key still gives consistent doubles within one process, but not across replicas or
    restarts, so it is announced with a warning.
    """
    value = os.environ.get(KEY_ENV)
    if value:
        return value.encode()
    log.warning(
        "%s is not set: using a random per-process key; doubles will differ across "
        "replicas and restarts",
        KEY_ENV,
    )
    return secrets.token_bytes(32)


class _DetectionCache:
    """Bounded LRU of detection results keyed by a keyed digest of the text.

    Chat APIs resend the whole conversation every turn; with this, turn N only pays for the
    text turn N added. Keys are digests, values offsets: the cache holds no text.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, list[Span]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes) -> list[Span] | None:
        with self._lock:
            spans = self._items.get(key)
            if spans is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return spans

    def put(self, key: bytes, spans: list[Span]) -> None:
        with self._lock:
            self._items[key] = spans
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


MIN_CACHED_CHARS = 64  # below this, detecting again is about as cheap as hashing
# Cache keys are keyed digests: a memory dump cannot confirm a guessed text against them.
_CACHE_KEY = secrets.token_bytes(32)
MAX_TENANTS = 1024
_WARM_UP = "Warm up: Jane Doe, jane@example.org, +1 415 555 0134, 12 Main Street, Springfield."
# Pattern spans at least this sure (or validated) are passed to the model as known: it skips them.
SURE_SCORE = 0.9
_PLACEHOLDER = re.compile(r"\[([A-Z0-9_]+)_(\d+)\]")


@dataclass
class Engine:
    """Detectors plus a pseudonymizer. Safe to share; one :class:`MaskSession` per exchange."""

    detectors: Sequence[Detector]
    pseudonymizer: DoubleMaker
    policy: Policy = field(default_factory=Policy)
    cache_size: int = 4096
    _cache: _DetectionCache = field(init=False, repr=False)
    _tenants: dict[str, DoubleMaker] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cache = _DetectionCache(self.cache_size)
        self._tenants = {}
        self._tenant_lock = threading.Lock()

    def pseudonymizer_for(self, tenant: str) -> DoubleMaker:
        """The tenant's pseudonymizer (its own derived key); the engine's own for no tenant."""
        if not tenant:
            return self.pseudonymizer
        with self._tenant_lock:
            maker = self._tenants.get(tenant)
            if maker is None:
                if len(self._tenants) >= MAX_TENANTS:
                    self._tenants.clear()
                maker = self._tenants[tenant] = self.pseudonymizer.for_tenant(tenant)
            return maker

    def detect(self, text: str) -> list[Span]:
        """Non-overlapping spans of personal data in ``text``, sorted by start."""
        if len(text) < MIN_CACHED_CHARS or self.cache_size <= 0:
            return self._detect(text)
        key = hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=16, key=_CACHE_KEY
        ).digest()
        spans = self._cache.get(key)
        if spans is None:
            spans = self._detect(text)
            self._cache.put(key, spans)
        return spans

    def _detect(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for detector in self.detectors:
            if getattr(detector, "reads_known_spans", False):
                known = [s for s in spans if s.validated or s.score >= SURE_SCORE]
                spans.extend(detector.detect(text, known=known))  # type: ignore[call-arg]
            else:
                spans.extend(detector.detect(text))
        return resolve_overlaps(spans)

    def session(self, policy: Policy | None = None, tenant: str = "") -> MaskSession:
        return MaskSession(self, policy or self.policy, self.pseudonymizer_for(tenant))

    def warm_up(self) -> None:
        """Load now what the first request would wait for: the model session, the Faker
        locales and word lists doubles are made from, phone metadata."""
        session = self.session()
        session.restorer().restore(session.mask(_WARM_UP))


def _written_in(word: str, text: str) -> bool:
    """Whether ``word`` occurs in ``text`` as a whole word (not inside a longer one)."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if not (start and text[start - 1].isalnum()) and not (
            end < len(text) and text[end].isalnum()
        ):
            return True
        start = text.find(word, start + 1)
    return False


@dataclass(frozen=True)
class _Taken:
    """What a new double must not be: an original of the body being masked, or a word written
    in its texts (the answer often repeats them: a double "Case" would turn every "case" into
    the original)."""

    originals: set[str]
    texts: str  # casefolded

    def __contains__(self, double: str) -> bool:
        return double in self.originals or _written_in(double.casefold(), self.texts)


@dataclass
class MaskSession:
    """The doubles of one exchange under one policy: masks the request's texts, restores the
    response's."""

    engine: Engine
    policy: Policy
    pseudonymizer: DoubleMaker
    _double_of: dict[tuple[str, str], str] = field(default_factory=dict)
    _original_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    _placeholders: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def mask(self, text: str) -> str:
        return self.mask_many([text])[0]

    def detect(self, text: str) -> list[Span]:
        """The engine's detections under this session's policy: its own types and deny-list
        added, thresholds and allow-list applied."""
        spans = self.engine.detect(text)
        extra = self.policy.extra_spans(text)
        if extra:
            spans = resolve_overlaps([*spans, *extra])
        return [s for s in spans if self.policy.keeps(s, text[s.start : s.end])]

    def mask_many(self, texts: Sequence[str]) -> list[str]:
        """Mask several texts of one body. All originals are known before any double is chosen,
        so no double can equal an original anywhere in the exchange.

        Raises :class:`~engine.policy.Blocked` when a text holds a type the policy blocks. In
        monitor mode the texts come back unchanged; ``counts`` says what would have been masked.
        """
        found = [(text, self.detect(text)) for text in texts]
        policy = self.policy
        for _, spans in found:
            self.counts.update(s.type for s in spans if policy.action(s.type) is not Action.ALLOW)
        if policy.mode is Mode.MONITOR:
            return list(texts)
        blocked = {
            s.type for _, spans in found for s in spans if policy.action(s.type) is Action.BLOCK
        }
        if blocked:
            raise Blocked(blocked)
        taken = _Taken(
            {text[s.start : s.end] for text, spans in found for s in spans},
            "\x00".join(texts).casefold(),
        )
        return [self._replace(text, spans, taken) for text, spans in found]

    def _replace(self, text: str, spans: Iterable[Span], taken: _Taken) -> str:
        out: list[str] = []
        pos = 0
        for span in spans:
            action = self.policy.action(span.type)
            if action is Action.ALLOW:
                continue
            original = text[span.start : span.end]
            out.append(text[pos : span.start])
            out.append(
                f"[{span.type}]"
                if action is Action.REDACT
                else self._double(span, original, taken, action)
            )
            pos = span.end
        out.append(text[pos:])
        return "".join(out)

    def _double(self, span: Span, original: str, taken: _Taken, action: Action) -> str:
        key = (span.type, original)
        if key in self._double_of:
            return self._double_of[key]
        double = None
        if action is Action.DOUBLE:
            double = self._derived_double(span, original, taken)
        if double is None:
            self._placeholders[span.type] += 1
            double = f"[{span.type}_{self._placeholders[span.type]}]"
        self._double_of[key] = double
        self._original_of[double] = key
        return double

    def _derived_double(self, span: Span, original: str, taken: _Taken) -> str | None:
        """A keyed double that is no original, no word of the texts and no other double of this
        exchange; None when the type has none (a value without letters or digits): a
        placeholder is used then."""
        fmt = self.policy.double_format(span.type)
        for attempt in range(MAX_ATTEMPTS):
            try:
                if fmt:
                    seed = self.pseudonymizer.seed(span.type, original, attempt)
                    double = format_double(fmt, random.Random(int.from_bytes(seed, "big")))
                else:
                    double = self.pseudonymizer.double(span.type, original, span.subtype, attempt)
            except ValueError:  # engine.doubles.DoubleError
                return None
            if double not in taken and double not in self._original_of:
                return double
        return None

    def export_pairs(self) -> dict[str, tuple[str, str]]:
        """This exchange's doubles: double -> (entity type, original), for the vault."""
        return dict(self._original_of)

    def import_pairs(self, pairs: dict[str, tuple[str, str]]) -> None:
        """Doubles of an earlier exchange this one continues: they are restored in its answer,
        and its own originals get the same doubles and placeholder numbers as before."""
        for double, (entity_type, original) in pairs.items():
            self._original_of.setdefault(double, (entity_type, original))
            self._double_of.setdefault((entity_type, original), double)
            m = _PLACEHOLDER.fullmatch(double)
            if m and m.group(1) == entity_type:
                self._placeholders[entity_type] = max(
                    self._placeholders[entity_type], int(m.group(2))
                )

    def restorer(self) -> Restorer:
        return Restorer(
            [
                Replacement(double, original, restore_match(entity_type))
                for double, (entity_type, original) in self._original_of.items()
            ]
        )

    @property
    def replacements(self) -> int:
        return len(self._original_of)

"""Detect, assign doubles, replace: the masking half of the engine, and the per-exchange mapping
that the restoring half is built from."""

from __future__ import annotations

import logging
import os
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engine.catalog import restore_match
from engine.detectors.base import Detector
from engine.restore import Replacement, Restorer
from engine.spans import Span, resolve_overlaps

log = logging.getLogger(__name__)


class DoubleMaker(Protocol):
    """Makes the double of an original (``engine.doubles.Pseudonymizer`` is the real one)."""

    def double(
        self, entity_type: str, original: str, subtype: str | None = None, attempt: int = 0
    ) -> str: ...


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


@dataclass
class Engine:
    """Detectors plus a pseudonymizer. Safe to share; one :class:`MaskSession` per exchange."""

    detectors: Sequence[Detector]
    pseudonymizer: DoubleMaker
    placeholder_types: frozenset[str] = frozenset()

    def detect(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for detector in self.detectors:
            spans.extend(detector.detect(text))
        return resolve_overlaps(spans)

    def session(self) -> MaskSession:
        return MaskSession(self)


@dataclass
class MaskSession:
    """The doubles of one exchange: masks the request's texts, restores the response's."""

    engine: Engine
    _double_of: dict[tuple[str, str], str] = field(default_factory=dict)
    _original_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    _placeholders: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def mask(self, text: str) -> str:
        return self.mask_many([text])[0]

    def mask_many(self, texts: Sequence[str]) -> list[str]:
        """Mask several texts of one body. All originals are known before any double is chosen,
        so no double can equal an original anywhere in the exchange."""
        found = [(text, self.engine.detect(text)) for text in texts]
        originals = {text[s.start : s.end] for text, spans in found for s in spans}
        return [self._replace(text, spans, originals) for text, spans in found]

    def _replace(self, text: str, spans: Iterable[Span], originals: set[str]) -> str:
        out: list[str] = []
        pos = 0
        for span in spans:
            original = text[span.start : span.end]
            out.append(text[pos : span.start])
            out.append(self._double(span, original, originals))
            pos = span.end
            self.counts[span.type] += 1
        out.append(text[pos:])
        return "".join(out)

    def _double(self, span: Span, original: str, originals: set[str]) -> str:
        key = (span.type, original)
        if key in self._double_of:
            return self._double_of[key]
        if span.type in self.engine.placeholder_types:
            self._placeholders[span.type] += 1
            double = f"[{span.type}_{self._placeholders[span.type]}]"
        else:
            for attempt in range(MAX_ATTEMPTS):
                double = self.engine.pseudonymizer.double(
                    span.type, original, span.subtype, attempt
                )
                if double not in originals and double not in self._original_of:
                    break
            else:  # pragma: no cover - needs 32 collisions in a row
                raise RuntimeError(f"no free double for a {span.type} after {MAX_ATTEMPTS} tries")
        self._double_of[key] = double
        self._original_of[double] = key
        return double

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

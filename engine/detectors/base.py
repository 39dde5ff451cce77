"""The shape every detector has, and the declarative pattern detector most of them use.

A detector is anything with a ``name``, the ``entity_types`` it can emit and a
``detect(text)`` that yields :class:`~engine.spans.Span` objects. A detector whose
``reads_known_spans`` is true is called as ``detect(text, known=spans)`` after the others,
with the sure spans they found (the model skips what the patterns proved). Most structured
types are a :class:`PatternDetector`: named regexes with base scores, optional context words,
and one ``validate`` hook backed by a well-kept library (python-stdnum, phonenumbers,
ipaddress).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Protocol, runtime_checkable

from engine.spans import Span


@lru_cache(maxsize=8)
def lowered(text: str) -> str:
    """``text.lower()``, computed once per text for all detectors (cheap substring pre-checks)."""
    return text.lower()


@runtime_checkable
class Detector(Protocol):
    name: str
    entity_types: tuple[str, ...]

    def detect(self, text: str) -> Iterator[Span]: ...


@dataclass(frozen=True)
class Pattern:
    """A named regex. ``group`` selects the capture group that holds the value (0 = whole match)."""

    name: str
    regex: str
    score: float
    group: int = 0
    flags: int = 0


@dataclass(frozen=True)
class Verdict:
    """What ``validate`` says of a candidate: keep it or not, whether a checksum confirmed it,
    and the concrete format (``subtype``) for the double generator."""

    ok: bool
    validated: bool = False
    subtype: str | None = None


ACCEPT = Verdict(True)
REJECT = Verdict(False)


class PatternDetector:
    """Regex candidates, context words, one validation hook.

    Subclasses set ``ENTITY``, ``PATTERNS`` and optionally ``CONTEXT`` (lower-case words that
    raise confidence when they appear within ``CONTEXT_WINDOW`` characters before the match)
    and ``CONTEXT_REQUIRED`` (drop the candidate when no context word is near: for values
    such as 9-digit numbers that are only personal data when the text says so).
    """

    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[tuple[Pattern, ...]]
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    CONTEXT_REQUIRED: ClassVar[bool] = False
    CONTEXT_WINDOW: ClassVar[int] = 48
    CONTEXT_BOOST: ClassVar[float] = 0.15
    #: Context words must end at a word boundary ("sin" must not match "since").
    CONTEXT_WHOLE_WORDS: ClassVar[bool] = False
    #: Longest value a pattern can match; bounds the scan after a required context word.
    MAX_LENGTH: ClassVar[int] = 256

    def __init__(self) -> None:
        self.name = type(self).__name__
        self.entity_types = (self.ENTITY,)
        self._compiled = [(p, re.compile(p.regex, p.flags)) for p in self.PATTERNS]
        self._context = (
            re.compile(
                r"\b(?:"
                + "|".join(re.escape(w) for w in self.CONTEXT)
                + (r")(?!\w)" if self.CONTEXT_WHOLE_WORDS else ")"),
                re.IGNORECASE,
            )
            if self.CONTEXT
            else None
        )

    def validate(self, value: str) -> Verdict:
        """Override: check ``value`` with a library. The default accepts without validating."""
        return ACCEPT

    def has_context(self, text: str, start: int, end: int) -> bool:
        if self._context is None:
            return False
        window = text[max(0, start - self.CONTEXT_WINDOW) : start]
        return self._context.search(window) is not None

    def _context_matches(self, text: str) -> list[re.Match]:
        """Context words in ``text``, in order. Found with ``str.find`` on the lower-cased text
        (far faster than a case-insensitive regex scan) and confirmed by the context regex."""
        if self._context is None:
            return []
        low = lowered(text)
        if len(low) != len(text):  # lower() changed the length: positions would not line up
            return list(self._context.finditer(text))
        starts: set[int] = set()
        for word in self.CONTEXT:
            i = low.find(word)
            while i >= 0:
                starts.add(i)
                i = low.find(word, i + 1)
        found = (self._context.match(text, i) for i in sorted(starts))
        return [m for m in found if m is not None]

    def matches(
        self, regex: re.Pattern[str], text: str, contexts: list[re.Match] | None = None
    ) -> Iterator[re.Match]:
        """``regex.finditer(text)``; given the ``contexts`` (from :meth:`_context_matches`),
        only the stretches that start within ``CONTEXT_WINDOW`` after a context word are
        scanned, for values of at most ``MAX_LENGTH`` characters."""
        if contexts is None:
            yield from regex.finditer(text)
            return
        scanned = 0
        for c in contexts:
            lo, latest_start = max(c.end(), scanned), c.start() + self.CONTEXT_WINDOW
            if lo > latest_start:
                continue
            for m in regex.finditer(text, lo, min(len(text), latest_start + self.MAX_LENGTH)):
                if m.start() > latest_start:
                    break
                scanned = max(scanned, m.end())
                yield m

    def detect(self, text: str) -> Iterator[Span]:
        contexts = self._context_matches(text) if self.CONTEXT_REQUIRED else None
        if contexts == []:
            return
        for pattern, regex in self._compiled:
            for m in self.matches(regex, text, contexts):
                start, end = m.span(pattern.group)
                if start < 0 or start == end:
                    continue
                verdict = self.validate(m.group(pattern.group))
                if not verdict.ok:
                    continue
                score = pattern.score
                if self._context is not None:
                    if self.has_context(text, start, end):
                        score = min(1.0, score + self.CONTEXT_BOOST)
                    elif self.CONTEXT_REQUIRED:
                        continue
                yield Span(
                    start, end, self.ENTITY, score, verdict.validated, verdict.subtype, self.name
                )

"""Put originals back: one pass over a text, and the same thing over a stream of chunks.

A :class:`Restorer` knows every double of one exchange and the original each stands for. It
finds them in one left-to-right pass, longest double first at each position, and never inside
a longer word. Nothing is compiled per exchange: each double is tried, by plain string
comparison, only where a word or a symbol starts with its first character. (One regex
alternation of all doubles cost ~5 ms to compile for 30 doubles and tried every alternative at
every character; per-double regexes still cost ~0.13 ms each and evicted the ``re`` module's
cache, so phonenumbers recompiled its own patterns.)

It also restores what models write back differently: other letter case for case-insensitive
types (names, emails, places), possessives ("Keller's" restores the "Keller" part) and, for
number-like types, other separators ("+1 415 555 0100" for "+1-415-555-0100").

:class:`StreamingRestorer` is fed chunks of any size and emits restored text as early as
possible: it holds back only the longest tail that could still grow into a double. For every
split of a text into chunks, ``"".join(feed(c) for c in chunks) + flush()`` equals
``restore(text)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum


class Match(Enum):
    """How a double may reappear in model output."""

    EXACT = "exact"
    CASELESS = "caseless"  # names, emails, places: "KELLER", "keller"
    SEPARATORS = "separators"  # phones, cards, IBANs: digits with other or no separators


_LEAD = re.compile(r"[^\w]*")
_TRAIL = re.compile(r"[^\w]*$")


def _alnum_key(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).upper()


@dataclass(frozen=True)
class Replacement:
    """One double, the original it restores to, and how it may reappear."""

    double: str
    original: str
    match: Match = Match.EXACT


def _ends(double: str) -> tuple[str, str]:
    """The punctuation a number-like double starts and ends with: ``+``, ``(``, ``)``."""
    lead = _LEAD.match(double).group()  # type: ignore[union-attr]
    trail = _TRAIL.search(double[len(lead) :]).group()  # type: ignore[union-attr]
    return lead, trail


_SEPARATORS = frozenset(" -./()")


def _word(c: str) -> bool:
    """A regex ``\\w`` character: a letter, a digit or ``_``."""
    return c.isalnum() or c == "_"


class _Matcher:
    """Finds one double at a given position, as it may be written back (see :class:`Match`)."""

    __slots__ = ("chars", "double", "guard_end", "guard_start", "kind", "lead", "lower", "trail")

    def __init__(self, double: str, kind: Match) -> None:
        self.double = double
        self.kind = kind
        self.lower = double.lower()
        self.chars = [c for c in double if c.isalnum()]
        self.lead, self.trail = _ends(double) if kind is Match.SEPARATORS else ("", "")
        # never inside a longer word: the ends that are word characters are guarded
        self.guard_start = kind is Match.SEPARATORS or _word(double[0]) or double[0] == "+"
        self.guard_end = _word(double[-1])

    def end_at(self, text: str, pos: int) -> int:
        """Where a match starting at ``pos`` ends, or -1."""
        if self.guard_start and pos > 0 and _word(text[pos - 1]):
            return -1
        if self.kind is Match.SEPARATORS:
            return self._separated(text, pos)
        end = pos + len(self.double)
        if self.kind is Match.CASELESS:
            if text[pos:end].lower() != self.lower:
                return -1
        elif not text.startswith(self.double, pos):
            return -1
        if self.guard_end and end < len(text) and _word(text[end]):
            return -1
        return end

    def _separated(self, text: str, pos: int) -> int:
        """The double's letters and digits with any separators between them; its outer
        punctuation ("(415) 555-0134" may come back as "415-555-0134") optional, and consumed
        when present, so the original's own is not doubled."""
        n = len(text)
        i = pos + len(self.lead) if self.lead and text.startswith(self.lead, pos) else pos
        for k, c in enumerate(self.chars):
            if k:
                while i < n and text[i] in _SEPARATORS:
                    i += 1
            if i >= n or text[i] != c:
                return -1
            i += 1
        trail = self.trail
        if trail and text.startswith(trail, i):
            after = i + len(trail)
            if not (after < n and _word(text[after])):
                return after
        if i < n and _word(text[i]):
            return -1
        return i


def _case_like(original: str, written: str) -> str:
    """Give the original the case style the model used for the double."""
    if written.isupper() and not original.isupper():
        return original.upper()
    if written.islower() and not original.islower():
        return original.lower()
    return original


def _first_chars(r: Replacement) -> set[str]:
    """Every character a match of ``r`` can start with."""
    first = r.double[0]
    if r.match is Match.SEPARATORS:
        lead, _ = _ends(r.double)
        rest = r.double[len(lead) :]
        return {*lead[:1], *rest[:1]}
    if r.match is Match.CASELESS:
        return {first, first.lower(), first.upper(), first.casefold(), first.swapcase()}
    return {first}


# Where a match can start: the first character of a word (a double that starts with a word
# character never matches inside one), or any other non-word character.
_CANDIDATE = re.compile(r"(?<!\w)\w|\W")


class Restorer:
    """Replaces every double in a text with its original, in one pass."""

    def __init__(self, replacements: list[Replacement]) -> None:
        self._exact: dict[str, str] = {}
        self._caseless: dict[str, str] = {}
        self._separators: dict[str, str] = {}
        for r in replacements:
            if not r.double:
                continue
            self._exact[r.double] = r.original
            if r.match is Match.CASELESS:
                self._caseless.setdefault(r.double.casefold(), r.original)
            elif r.match is Match.SEPARATORS:
                self._separators.setdefault(_alnum_key(r.double), r.original)
        ordered = sorted(
            {(r.double, r.match): r for r in replacements if r.double}.values(),
            key=lambda r: (-len(r.double), r.double),
        )
        # first character -> the doubles that can start with it, longest first
        self._by_first: dict[str, list[_Matcher]] = {}
        for r in ordered:
            matcher = _Matcher(r.double, r.match)
            for c in _first_chars(r):
                self._by_first.setdefault(c, []).append(matcher)
        self._live = _LivePrefixes(ordered)

    def matches(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of the doubles in ``text[pos:]``, left to right, without overlaps:
        at each position the longest double that matches there."""
        by_first = self._by_first
        end = pos
        for c in _CANDIDATE.finditer(text, pos):
            start = c.start()
            if start < end:
                continue
            for matcher in by_first.get(text[start], ()):
                found = matcher.end_at(text, start)
                if found >= 0:
                    yield start, found
                    end = found
                    break

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def _original_for(self, written: str) -> str:
        if written in self._exact:
            return self._exact[written]
        key = _alnum_key(written)
        if key in self._separators:
            return self._separators[key]
        original = self._caseless.get(written.casefold())
        if original is not None:
            return _case_like(original, written)
        return written  # unreachable for a match of our own regex; keep the text as written

    def restore(self, text: str) -> str:
        if not self._by_first:
            return text
        out: list[str] = []
        pos = 0
        for start, end in self.matches(text):
            out.append(text[pos:start])
            out.append(self._original_for(text[start:end]))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def stream(self) -> StreamingRestorer:
        return StreamingRestorer(self)


class _LivePrefixes:
    """Answers: could this tail of a stream still grow into a double?"""

    def __init__(self, replacements: list[Replacement]) -> None:
        self.exact: set[str] = set()
        self.caseless: set[str] = set()
        self.separators: set[str] = set()
        self.starts: set[str] = set()  # characters a double can start with, in any case
        self.leads: set[str] = set()  # punctuation a number-like double may start with
        self.max_len = 0
        for r in replacements:
            first = r.double[0]
            self.starts.update({first, first.lower(), first.upper(), first.casefold()})
            if r.match is Match.SEPARATORS:
                lead, _ = _ends(r.double)
                self.leads.update(lead)
                self.starts.update(lead)
                self.starts.update(c for c in r.double[len(lead) : len(lead) + 1])
            d = r.double
            if r.match is Match.SEPARATORS:
                key = _alnum_key(d)
                self.separators.update(key[:i] for i in range(1, len(key) + 1))
                # separators may be written between every character
                self.max_len = max(self.max_len, 4 * len(key) + 1)
            elif r.match is Match.CASELESS:
                f = d.casefold()
                self.caseless.update(f[:i] for i in range(1, len(f) + 1))
                self.max_len = max(self.max_len, len(d))
            else:
                self.exact.update(d[:i] for i in range(1, len(d) + 1))
                self.max_len = max(self.max_len, len(d))
            self.max_len = max(self.max_len, len(d))

    def is_live(self, tail: str) -> bool:
        """True when ``tail`` is a prefix of a double (or equals one: its end is undecided)."""
        if tail in self.exact or tail.casefold() in self.caseless:
            return True
        if self.separators and (tail[0].isalnum() or tail[0] in self.leads):
            key = _alnum_key(tail)
            if not key:  # only punctuation so far: it may be a double's "(" or "+"
                return True
            if key in self.separators:
                return True
        return False


class StreamingRestorer:
    """Restores a text that arrives in chunks; see the module docstring for the guarantee."""

    def __init__(self, restorer: Restorer) -> None:
        self._r = restorer
        self._buf = ""  # text not yet emitted, plus one character of context before it
        self._ctx = 0  # how many leading characters of _buf are context only

    def feed(self, chunk: str) -> str:
        if not self._r:
            return chunk
        self._buf += chunk
        return self._drain(final=False)

    def flush(self) -> str:
        if not self._r:
            return ""
        return self._drain(final=True)

    def _safe_end(self) -> int:
        """The earliest position from which the buffer's tail could still grow into a double."""
        buf, live = self._buf, self._r._live
        starts = live.starts
        start = max(self._ctx, len(buf) - live.max_len)
        for q in range(start, len(buf)):
            if buf[q] in starts and live.is_live(buf[q:]):
                return q
        return len(buf)

    def _drain(self, final: bool) -> str:
        buf = self._buf
        safe = len(buf) if final else self._safe_end()
        out: list[str] = []
        pos = self._ctx
        for start, match_end in self._r.matches(buf, pos):
            if start >= safe:
                break
            out.append(buf[pos:start])
            out.append(self._r._original_for(buf[start:match_end]))
            pos = match_end
        end = max(pos, safe)
        out.append(buf[pos:end])
        # keep one character before the unsent text: the word-boundary guards look at it
        keep_from = max(0, end - 1)
        self._buf = buf[keep_from:]
        self._ctx = end - keep_from
        return "".join(out)

"""Payment data: card numbers (``stdnum.luhn`` + issuer ranges), IBANs (``stdnum.iban``) and
SWIFT/BIC codes (``stdnum.bic``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import bic, iban, luhn

from engine.detectors.base import REJECT, Pattern, PatternDetector, Verdict
from engine.spans import Span

_DIGIT_GROUP = re.compile(r"\d+")
_DIGIT_GROUP_LAST = re.compile(r"[ -]?\d+$")
_GLUED_AFTER = re.compile(r"\w|[.,/-]\d")

# Issuer identification ranges (leading digits, "low-high" for a range of equal-width
# prefixes) and the card lengths each issuer uses. The first issuer that matches wins, so
# narrower ranges (Discover inside 62, Maestro inside 5/6) come before broader ones.
_ISSUER_TABLE: tuple[tuple[str, str, range | tuple[int, ...]], ...] = (
    ("amex", "34 37", (15,)),
    ("diners", "300-305 3095 36 38-39", range(14, 20)),
    ("jcb", "3528-3589", range(16, 20)),
    ("jcb", "1800 2131", (15,)),
    ("visa", "4", (13, 16, 19)),
    ("mastercard", "51-55 2221-2720", (16,)),
    ("discover", "6011 644-649 65 622126-622925", range(16, 20)),
    ("unionpay", "62 81", range(16, 20)),
    ("maestro", "5018 5020 5038 5893 6304 6759 6761-6763 56-58", range(12, 20)),
)


def _prefix_range(text: str) -> tuple[str, str]:
    low, _, high = text.partition("-")
    return low, high or low


_ISSUERS = tuple(
    (name, tuple(_prefix_range(r) for r in ranges.split()), frozenset(lengths))
    for name, ranges, lengths in _ISSUER_TABLE
)


def card_issuer(digits: str) -> str | None:
    """The issuer whose number ranges and lengths fit ``digits``, or None."""
    for name, ranges, lengths in _ISSUERS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            if low <= digits[: len(low)] <= high:
                return name
    return None


class CreditCardDetector(PatternDetector):
    """Payment card numbers, compact or grouped with spaces or dashes; Luhn and issuer checked.
    A Luhn-valid number outside the known issuer ranges needs a word such as "card" nearby."""

    ENTITY = "CREDIT_CARD"
    PATTERNS = (Pattern("card", r"\d(?<![\w.,+/-]\d)(?:[ -]?\d){11,}+", 0.8),)
    CONTEXT = (
        "card", "credit", "debit", "visa", "mastercard", "amex", "cc", "kreditkarte", "carte",
        "tarjeta", "carta",
    )  # fmt: skip
    CONTEXT_WINDOW = 40

    def validate(self, value: str) -> Verdict:
        if " " in value and "-" in value:
            return REJECT  # mixed separators: two numbers side by side, not one card
        if "  " in value or "--" in value:
            return REJECT
        digits = value.replace(" ", "").replace("-", "")
        if not 12 <= len(digits) <= 19 or len(set(digits)) < 2 or not luhn.is_valid(digits):
            return REJECT
        # An unknown issuer range is kept as "other": detect() then asks for a card word nearby.
        return Verdict(True, True, card_issuer(digits) or "other")

    def detect(self, text: str) -> Iterator[Span]:
        _, regex = self._compiled[0]
        for m in regex.finditer(text):
            run = m.group()
            if _GLUED_AFTER.match(text, m.end()):
                # The last group belongs to what follows ("... 6467 203.0.113.7", "1234abc").
                run = run[: _DIGIT_GROUP_LAST.search(run).start()]  # type: ignore[union-attr]
            yield from self._cards_in(text, run, m.start())

    def _span(self, text: str, start: int, end: int) -> Span | None:
        """A span for ``text[start:end]`` if it is a card number that needs no more evidence
        or has a card word before it."""
        verdict = self.validate(text[start:end])
        if not verdict.ok:
            return None
        context = self.has_context(text, start, end)
        digits = sum(map(str.isdigit, text[start:end]))
        if not context and (verdict.subtype == "other" or digits < 13):
            return None  # unknown ranges and 12-digit Maestro numbers look like references
        score = min(1.0, 0.8 + self.CONTEXT_BOOST) if context else 0.8
        return Span(start, end, self.ENTITY, score, True, verdict.subtype, self.name)

    def _cards_in(self, text: str, run: str, offset: int) -> Iterator[Span]:
        """Cards in a run of digit groups: the whole run, else the longest card windows of
        whole groups, left to right ("7334 4539 1488 0343 6467": a number, then a card).
        A compact digit run is never split: a card is not hidden inside a longer number."""
        if sum(map(str.isdigit, run)) < 12:
            return
        span = self._span(text, offset, offset + len(run))
        if span is not None:
            yield span
            return
        groups = [g.span() for g in _DIGIT_GROUP.finditer(run)]
        i = 0
        while i < len(groups):
            for j in range(min(len(groups), i + 19), i, -1):
                s, e = groups[i][0], groups[j - 1][1]
                if not 12 <= e - s - (j - 1 - i) <= 19:
                    continue
                span = self._span(text, offset + s, offset + e)
                if span is not None:
                    yield span
                    i = j
                    break
            else:
                i += 1


class IbanDetector(PatternDetector):
    """IBANs, compact or in groups of four; mod-97 and per-country length/format via stdnum."""

    ENTITY = "IBAN"
    # Anchored on the two check digits (the scan skips quickly to digits); the country code
    # before them is checked by lookbehind and added to the span in detect().
    PATTERNS = (
        Pattern(
            "iban",
            r"\d\d(?<=[A-Za-z]{2}\d\d)(?<![\w-][A-Za-z]{2}\d\d)"
            r"(?:[A-Za-z0-9]{11,30}|(?:[ ][A-Za-z0-9]{4}){2,7}+(?:[ ][A-Za-z0-9]{1,3})?)(?![\w-])",
            0.85,
        ),
    )
    CONTEXT = ("iban", "account", "bank", "konto", "compte", "cuenta")

    def detect(self, text: str) -> Iterator[Span]:
        _, regex = self._compiled[0]
        for m in regex.finditer(text):
            start, end = m.start() - 2, m.end()
            verdict = self.validate(text[start:end])
            if verdict.ok:
                score = 1.0 if self.has_context(text, start, end) else 0.85
                yield Span(start, end, self.ENTITY, score, True, verdict.subtype, self.name)

    def validate(self, value: str) -> Verdict:
        compact = value.replace(" ", "").upper()
        if not iban.is_valid(compact):
            return REJECT
        return Verdict(True, True, compact[:2])


class SwiftBicDetector(PatternDetector):
    """SWIFT/BIC codes (8 or 11 characters). Context is required: ``ABSTRACT`` and many other
    eight-letter words have the same shape."""

    ENTITY = "SWIFT_BIC"
    PATTERNS = (Pattern("bic", r"(?<![\w-])[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![\w-])", 0.6),)
    CONTEXT = ("swift", "bic", "bank identifier", "bank code", "routing code", "sort code")
    CONTEXT_REQUIRED = True
    MAX_LENGTH = 16

    def validate(self, value: str) -> Verdict:
        if not bic.is_valid(value):
            return REJECT
        return Verdict(True, True, "bic11" if len(value) == 11 else "bic8")

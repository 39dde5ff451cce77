"""Government identifiers: US SSN/ITIN/EIN, European and Indian national and tax ids (each
checked by its python-stdnum module), passports and driver's licences (context only).

Ids that are bare digit runs (a 9-digit BSN, an 11-digit German IdNr) look like any other
number and are only reported when a word such as "BSN" or "Steuer-ID" stands nearby.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import ModuleType
from typing import ClassVar

from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ein, itin, ssn

from engine.detectors.base import REJECT, Pattern, PatternDetector, Verdict
from engine.spans import Span

_SEPARATORS = re.compile(r"[ .-]")
_START = r"(?<![\w./-])"
_END = r"(?![\w]|[./-]\w)"


def _lead(charset: str) -> str:
    """A value's first character, with the token-start check placed after it: a regex that
    begins with a character class lets the engine skip quickly to candidates."""
    return charset + r"(?<![\w./-]" + charset + ")"


class IdDetector(PatternDetector):
    """A national or tax id checked by one python-stdnum module.

    ``CONTEXT_REQUIRED_FOR`` names the patterns (usually the bare-digit layouts) that are
    dropped unless a context word stands before them; the other patterns stand on their own.
    """

    STDNUM: ClassVar[ModuleType]
    SUBTYPE: ClassVar[str]
    CONTEXT_REQUIRED_FOR: ClassVar[frozenset[str]] = frozenset()
    CONTEXT_WHOLE_WORDS = True
    MAX_LENGTH = 32

    def validate(self, value: str) -> Verdict:
        if not self.STDNUM.is_valid(_SEPARATORS.sub("", value)):
            return REJECT
        return Verdict(True, True, self.SUBTYPE)

    def detect(self, text: str) -> Iterator[Span]:
        contexts: list[re.Match] | None = None
        for pattern, regex in self._compiled:
            required = self.CONTEXT_REQUIRED or pattern.name in self.CONTEXT_REQUIRED_FOR
            if required and contexts is None:
                contexts = self._context_matches(text)
            for m in self.matches(regex, text, contexts if required else None):
                start, end = m.span(pattern.group)
                if start < 0 or start == end:
                    continue
                verdict = self.validate(m.group(pattern.group))
                if not verdict.ok:
                    continue
                context = self.has_context(text, start, end)
                if not context and (
                    self.CONTEXT_REQUIRED or pattern.name in self.CONTEXT_REQUIRED_FOR
                ):
                    continue
                score = min(1.0, pattern.score + self.CONTEXT_BOOST) if context else pattern.score
                yield Span(
                    start, end, self.ENTITY, score, verdict.validated, verdict.subtype, self.name
                )


# The lookbehind follows the first digit so the regex engine can skip to digits quickly.
_NINE_DIGITS_DASHED = Pattern("dashed", r"\d(?<![\w./-]\d)\d{2}-\d{2}-\d{4}" + _END, 0.6)
_NINE_DIGITS_PLAIN = Pattern(
    "plain", r"\d(?<![\w./-]\d)\d{2}(?:[ ]\d{2}[ ]|\d{2})\d{4}" + _END, 0.5
)


class SsnDetector(IdDetector):
    """US Social Security numbers (no 000/666/9xx area, 00 group, 0000 serial). ``123-45-6789``
    stands alone; spaced or bare nine digits need a word such as "SSN" nearby."""

    ENTITY = "SSN"
    STDNUM = ssn
    SUBTYPE = "us.ssn"
    PATTERNS = (_NINE_DIGITS_DASHED, _NINE_DIGITS_PLAIN)
    CONTEXT = ("ssn", "ssns", "social security", "soc sec", "ss#", "ss #", "ss no", "ss number")
    CONTEXT_REQUIRED_FOR = frozenset({"plain"})


class ItinDetector(IdDetector):
    """US Individual Taxpayer Identification Numbers (9xx-7x-xxxx ranges)."""

    ENTITY = "TAX_ID"
    STDNUM = itin
    SUBTYPE = "us.itin"
    PATTERNS = (
        Pattern("dashed", r"9(?<![\w./-]9)\d{2}-\d{2}-\d{4}" + _END, 0.6),
        Pattern("plain", r"9(?<![\w./-]9)\d{2}(?:[ ]\d{2}[ ]|\d{2})\d{4}" + _END, 0.5),
    )
    CONTEXT = ("itin", "taxpayer", "tax id", "tax identification", "tin")
    CONTEXT_REQUIRED_FOR = frozenset({"plain"})


class EinDetector(IdDetector):
    """US Employer Identification Numbers (``12-3456789``); context required: the layout is
    common in part and reference numbers."""

    ENTITY = "TAX_ID"
    STDNUM = ein
    SUBTYPE = "us.ein"
    PATTERNS = (
        Pattern("dashed", _START + r"\d{2}-\d{7}" + _END, 0.6),
        Pattern("plain", _START + r"\d{9}" + _END, 0.5),
    )
    CONTEXT = (
        "ein",
        "fein",
        "employer identification",
        "employer id",
        "tax id",
        "federal tax",
        "tin",
    )
    CONTEXT_REQUIRED = True


# Letters never used in a NINO prefix, and prefixes that are never allocated.
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


class GbNinoDetector(IdDetector):
    """UK National Insurance numbers (``AB 12 34 56 C``). python-stdnum has no NINO module, so the
    published allocation rules (prefix letters, suffix A-D) are checked here."""

    ENTITY = "NATIONAL_ID"
    SUBTYPE = "gb.nino"
    PATTERNS = (
        Pattern(
            "nino",
            _lead("[A-CEGHJ-PR-TW-Z]")
            + r"[A-CEGHJ-NPR-TW-Z](?:\d{6}|[ ]\d{2}[ ]\d{2}[ ]\d{2}[ ]?)[A-D]"
            + _END,
            0.7,
        ),
    )
    CONTEXT = ("national insurance", "nino", "ni number", "ni no", "nin")

    def validate(self, value: str) -> Verdict:
        if value[:2] in _NINO_BAD_PREFIXES:
            return REJECT
        return Verdict(True, True, self.SUBTYPE)


class DeIdnrDetector(IdDetector):
    """German tax identification number (Steuer-IdNr, 11 digits, ISO 7064 check digit)."""

    ENTITY = "TAX_ID"
    STDNUM = idnr
    SUBTYPE = "de.idnr"
    PATTERNS = (Pattern("idnr", _START + r"\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}" + _END, 0.6),)
    CONTEXT = (
        "steuer-id", "steuerid", "steuer-idnr", "steueridentifikationsnummer", "idnr",
        "identifikationsnummer", "steuernummer", "tax id", "tin",
    )  # fmt: skip
    CONTEXT_REQUIRED = True


class FrNirDetector(IdDetector):
    """French social security number (NIR / numéro INSEE, 15 digits with a mod-97 key)."""

    ENTITY = "NATIONAL_ID"
    STDNUM = nir
    SUBTYPE = "fr.nir"
    PATTERNS = (
        Pattern(
            "nir",
            _START + r"[12][ ]?\d{2}[ ]?\d{2}[ ]?(?:\d{2}|2[AB])[ ]?\d{3}[ ]?\d{3}[ ]?\d{2}" + _END,
            0.6,
        ),
    )
    CONTEXT = (
        "sécurité sociale", "securite sociale", "sécu", "secu", "nir", "insee", "carte vitale",
        "social security",
    )  # fmt: skip
    CONTEXT_REQUIRED = True


class EsDniDetector(IdDetector):
    """Spanish DNI (8 digits and a mod-23 check letter); context required."""

    ENTITY = "NATIONAL_ID"
    STDNUM = dni
    SUBTYPE = "es.dni"
    PATTERNS = (Pattern("dni", _START + r"\d{8}-?[A-Z]" + _END, 0.6),)
    CONTEXT = ("dni", "nif", "documento nacional", "documento de identidad", "identidad", "id card")
    CONTEXT_REQUIRED = True


class EsNieDetector(IdDetector):
    """Spanish foreigner id (NIE: X/Y/Z, 7 digits, check letter)."""

    ENTITY = "NATIONAL_ID"
    STDNUM = nie
    SUBTYPE = "es.nie"
    PATTERNS = (Pattern("nie", _lead("[XYZ]") + r"-?\d{7}-?[A-Z]" + _END, 0.7),)
    CONTEXT = ("nie", "extranjero", "foreigner", "identidad")


class ItCodiceFiscaleDetector(IdDetector):
    """Italian codice fiscale (16 characters with a check letter; omocodia letters allowed)."""

    ENTITY = "NATIONAL_ID"
    STDNUM = codicefiscale
    SUBTYPE = "it.codicefiscale"
    PATTERNS = (
        Pattern(
            "cf",
            _lead("[A-Z]")
            + r"[A-Z]{5}[0-9LMNP-V]{2}[A-EHLMPR-T][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]"
            + _END,
            0.8,
        ),
    )
    CONTEXT = ("codice fiscale", "cf", "tax code", "fiscal code")


class NlBsnDetector(IdDetector):
    """Dutch citizen service number (BSN, 9 digits, eleven-test); context required."""

    ENTITY = "NATIONAL_ID"
    STDNUM = bsn
    SUBTYPE = "nl.bsn"
    PATTERNS = (
        Pattern("bsn", _START + r"(?:\d{4}\.?\d{2}\.?\d{3}|\d{3}[ ]\d{3}[ ]\d{3})" + _END, 0.6),
    )
    CONTEXT = ("bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "citizen service number")
    CONTEXT_REQUIRED = True


class CaSinDetector(IdDetector):
    """Canadian Social Insurance Number (9 digits, Luhn); context required."""

    ENTITY = "NATIONAL_ID"
    STDNUM = sin
    SUBTYPE = "ca.sin"
    PATTERNS = (Pattern("sin", _START + r"\d{3}([ -]?)\d{3}\1\d{3}" + _END, 0.6),)
    CONTEXT = ("sin", "social insurance", "nas", "numéro d'assurance sociale", "assurance sociale")
    CONTEXT_REQUIRED = True


class InAadhaarDetector(IdDetector):
    """Indian Aadhaar number (12 digits, Verhoeff check); context required."""

    ENTITY = "NATIONAL_ID"
    STDNUM = aadhaar
    SUBTYPE = "in.aadhaar"
    PATTERNS = (Pattern("aadhaar", _START + r"[2-9]\d{3}([ -]?)\d{4}\1\d{4}" + _END, 0.6),)
    CONTEXT = ("aadhaar", "aadhar", "uidai", "uid")
    CONTEXT_REQUIRED = True


class InPanDetector(IdDetector):
    """Indian Permanent Account Number (``ABCPE1234F``: holder-type letter in fourth place)."""

    ENTITY = "TAX_ID"
    STDNUM = pan
    SUBTYPE = "in.pan"
    PATTERNS = (
        Pattern("pan", _lead("[A-Z]") + r"[A-Z]{2}[ABCFGHJLPT][A-Z]\d{4}[A-Z]" + _END, 0.6),
    )
    CONTEXT = ("pan", "permanent account number", "income tax")


class PassportDetector(PatternDetector):
    """Passport numbers (6-9 letters and digits, most of them digits). No checksum exists for
    most countries, so a word such as "passport" must stand before the value."""

    ENTITY = "PASSPORT"
    PATTERNS = (Pattern("passport", _START + r"(?=[A-Z]{0,3}\d)[A-Z0-9]{6,9}" + _END, 0.6),)
    CONTEXT = (
        "passport", "passport no", "passport number", "passport#", "reisepass", "reisepassnummer",
        "passeport", "pasaporte", "passaporto", "paspoort",
    )  # fmt: skip
    CONTEXT_REQUIRED = True
    CONTEXT_WINDOW = 32
    MAX_LENGTH = 16

    def validate(self, value: str) -> Verdict:
        if sum(c.isdigit() for c in value) < 5:
            return REJECT
        return Verdict(True, False, None)


class DriverLicenseDetector(PatternDetector):
    """Driver's licence numbers: state and national formats vary too much for a checksum, so a
    word such as "driver's license" or "DL#" must stand before the value."""

    ENTITY = "DRIVER_LICENSE"
    PATTERNS = (
        Pattern(
            "license",
            _START + r"(?=[A-Z0-9-]{0,8}\d)[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])){4,17}[A-Z0-9]" + _END,
            0.6,
        ),
    )
    CONTEXT = (
        "driver's license", "drivers license", "driver license", "driver's licence",
        "driving licence", "driving license", "driver licence", "license number", "licence number",
        "license no", "licence no", "dl#", "dl #", "dl no", "dl number", "d/l", "führerschein",
        "fuhrerschein", "permis de conduire", "licencia de conducir", "carnet de conducir",
        "patente di guida", "rijbewijs",
    )  # fmt: skip
    CONTEXT_REQUIRED = True
    CONTEXT_WINDOW = 40
    MAX_LENGTH = 24

    def validate(self, value: str) -> Verdict:
        digits = sum(c.isdigit() for c in value)
        if digits < 4 or (value.isdigit() and len(value) < 7):
            return REJECT
        return Verdict(True, False, None)

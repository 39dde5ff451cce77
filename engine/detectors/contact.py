"""Contact details: e-mail addresses, phone numbers (validated with ``phonenumbers``) and URLs.

Every regex here is linear-time: bounded or possessive repeats, and lookbehinds that only
let a candidate start at a token boundary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import urlsplit

import phonenumbers

from engine.detectors.base import ACCEPT, REJECT, Pattern, PatternDetector, Verdict, lowered
from engine.spans import Span

# File extensions that look like top-level domains in ``icon@2x.png`` or ``dump@home.tar``.
_FILE_EXTENSIONS = frozenset(
    "png jpg jpeg gif svg webp ico bmp tif tiff pdf txt log csv tsv json yaml yml xml html htm "
    "css scss js mjs cjs ts tsx jsx map md rst tar gz tgz zip bz2 xz whl egg lock toml ini cfg "
    "conf java class jar kt go rb php pl sql db mp3 mp4 mov wav avi exe dll so dylib bin".split()
)


class EmailDetector(PatternDetector):
    """E-mail addresses: dot-atom local part, dotted host name, alphabetic TLD."""

    ENTITY = "EMAIL"
    PATTERNS = (
        Pattern(
            "email",
            r"(?<![\w.%+-])[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
            r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}"
            r"(?![\w-]|@)",
            0.9,
        ),
    )

    def validate(self, value: str) -> Verdict:
        local, _, domain = value.rpartition("@")
        if ".." in local or domain.rsplit(".", 1)[-1].lower() in _FILE_EXTENSIONS:
            return REJECT
        return ACCEPT

    def detect(self, text: str) -> Iterator[Span]:
        # Only the stretch around each "@" is scanned: the local part is at most 64 characters.
        _, regex = self._compiled[0]
        at = text.find("@")
        done = 0
        while at >= 0:
            m = regex.search(text, max(done, at - 64), at + 320)
            if m is not None and m.start() <= at < m.end():
                done = m.end()
                value = m.group()
                # ``git@github.com:org/repo.git`` is an SSH remote, not someone's mailbox.
                if self.validate(value).ok and not (
                    value.startswith("git@") and text.startswith(":", m.end())
                ):
                    yield Span(m.start(), m.end(), self.ENTITY, 0.9, False, None, self.name)
            at = text.find("@", at + 1)


# A phone candidate: digit groups joined by one separator (space, dot, dash, " - ", or the
# ")" closing an area code), optional "(0)" / "(area)" groups, and an optional extension. It
# starts at a digit (the regex engine skips quickly to digits); a "+" or "(" just before is
# added in detect(). Digit groups are possessive: a long digit run is never re-split.
_PHONE_BODY = (
    r"\d(?<![\w.:/#$€£@-]\d)(?<!\d,\d)\d*+"
    r"(?:(?:[ ]?[-.][ ]?|[ ]|\)[ ]?(?:-[ ]?)?)(?:\(\d{1,5}\)[ ]?)?\d++)*+"
)
_PHONE_EXT = r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})?"
_PHONE_GROUP = re.compile(r"\(?\d+\)?")
_LAST_GROUP = re.compile(r"(?:[ ]?[-.][ ]?|[ ]|\)[ ]?(?:-[ ]?)?)?(?:\(\d{1,5}\)[ ]?)?\d+$")
_GLUED_AFTER = re.compile(r"\w|[.,:/-]\d")
_EXTENSION = re.compile(r"[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6}$")
_DATE_LIKE = re.compile(r"(?:\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4})$")
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}$")
_HAS_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# A national number with its trunk 0, in at least two groups of two or more digits
# ("0688 872 49 99", "079 2718 1155", "0961-7596216"); decimals such as 0.1234567 do not fit.
_TRUNK_GROUPED = re.compile(
    r"\(?0[1-9]\d{0,4}\)?(?:[ ]?[-.][ ]?|[ ])?\d{2,}(?:(?:[ ]?[-.][ ]?|[ ])\d{2,})*$"
)


_NOT_BEFORE_PHONE = frozenset("+.:/#$€£@-_")


def _phone_start(text: str, start: int) -> int:
    """Move ``start`` back over a leading "+" or "(" (the regex starts at a digit); -1 when
    what stands before makes the candidate part of something else ("C++11", "x+1")."""
    if start >= 1 and text[start - 1] == "(":
        start -= 1
    elif start >= 1 and text[start - 1] == "+":
        start -= 1
    elif start >= 2 and text[start - 2 : start] == "+ ":
        start -= 2
    else:
        return start
    before = text[start - 1] if start else " "
    return -1 if before.isalnum() or before in _NOT_BEFORE_PHONE else start


class PhoneDetector(PatternDetector):
    """Phone numbers: international (``+CC`` or ``00CC``) and national layouts.

    Kept without further evidence: numbers ``phonenumbers`` finds valid (international, or
    national in the default region), and grouped numbers with a trunk ``0`` that are valid
    national numbers in one of ``national_regions``. Numbers that are only *possible* and
    bare digit runs need a phone word ("call", "tel", "fax", "mobile") just before or after.
    """

    ENTITY = "PHONE"
    PATTERNS = (
        Pattern(
            "phone",
            _PHONE_BODY + _PHONE_EXT,
            0.7,
        ),
    )
    CONTEXT = (
        "phone", "tel", "call", "mobile", "cell", "fax", "contact", "reach", "text me", "sms",
        "whatsapp", "signal", "dial", "ring", "landline", "hotline", "handy", "telefon",
        "téléphone", "portable", "numéro", "nummer", "número", "ph.", "ph:", "mob",
    )  # fmt: skip
    CONTEXT_WINDOW = 40
    # Words that label a number written before them: "555 1234 (mobile)", "... 0958 fax".
    CONTEXT_AFTER: ClassVar[re.Pattern[str]] = re.compile(
        r"^[ \t]*[-(\[|:]?[ \t]*"
        r"(?:phone|tel|telephone|mobile|cell|fax|office|home|work|landline)\b",
        re.IGNORECASE,
    )
    MIN_DIGITS: ClassVar[int] = 7
    MAX_DIGITS: ClassVar[int] = 15
    NATIONAL_REGIONS: ClassVar[tuple[str, ...]] = (
        "GB", "DE", "FR", "IT", "ES", "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "PL",
        "PT", "IE", "CZ", "GR", "AU", "NZ", "ZA", "IN", "BR", "AR", "TR", "IL", "JP", "KR",
    )  # fmt: skip

    def __init__(self, region: str = "US", national_regions: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.region = region.upper()
        # Digit counts a national number of the default region can have, with or without its
        # trunk prefix: other counts are not parsed at all (parsing costs ~25 µs).
        meta = phonenumbers.PhoneMetadata.metadata_for_region(self.region)
        if meta is None:
            raise ValueError(f"unknown phone region {region!r}: use an ISO 3166 code such as 'US'")
        lengths = set(meta.general_desc.possible_length or ())
        trunk = len(meta.national_prefix or "")
        self._national_lengths = frozenset(lengths | {n + trunk for n in lengths})
        self.national_regions = tuple(
            r for r in (national_regions or self.NATIONAL_REGIONS) if r != self.region
        )

    def validate(self, value: str) -> Verdict:
        """Ask phonenumbers whether ``value`` is a real number (international or default region)."""
        number = self._parse(value)
        if number is None or not phonenumbers.is_valid_number(number):
            return REJECT
        return Verdict(True, True, phonenumbers.region_code_for_country_code(number.country_code))

    def _parse(self, value: str, region: str | None = None) -> phonenumbers.PhoneNumber | None:
        body = value.lstrip()
        if body.startswith("00") and not body.startswith("000"):
            body = "+" + body[2:]  # 00 is the international prefix almost everywhere
        elif body.startswith("011") and self.region in ("US", "CA"):
            body = "+" + body[3:]
        try:
            return phonenumbers.parse(body, None if body.startswith("+") else region or self.region)
        except phonenumbers.NumberParseException:
            return None

    def _national_region(self, value: str) -> str | None:
        """The one region (or "" for several) where a trunk-0 grouped number is valid."""
        found = [
            r
            for r in self.national_regions
            if (n := self._parse(value, r)) is not None and phonenumbers.is_valid_number(n)
        ]
        if not found:
            return None
        return found[0] if len(found) == 1 else ""

    def _judge(
        self, value: str, context: bool, fallback: bool = True
    ) -> tuple[float, bool, str | None] | None:
        """Score, validated flag and region for one candidate, or None to drop it."""
        core = _EXTENSION.sub("", value)
        digits = sum(c.isdigit() for c in core)
        if not self.MIN_DIGITS <= digits <= self.MAX_DIGITS:
            return None
        if _DATE_LIKE.match(core) or _DOTTED_QUAD.match(core):
            return None
        if core.count(".") == 1 and not core.strip("0123456789.()+ "):
            return None  # 8.768507213 is a decimal; dotted phone layouts have two or more dots
        bare = core.isdigit()
        international = core.startswith("+") or (core.startswith("00") and not bare)
        if bare and not context:
            return None  # ten bare digits are as often an order or account number
        if not international and digits not in self._national_lengths:
            number = None  # cannot be a national number of the default region
        else:
            number = self._parse(value)
        if number is not None:
            if phonenumbers.is_valid_number(number):
                # The country code's main region: region_code_for_number() would tell +1 US
                # from CA, but costs ~100 µs, and both share one numbering plan and layout.
                region = phonenumbers.region_code_for_country_code(number.country_code)
                return (0.85 if context else 0.7), True, region
            if international and phonenumbers.is_possible_number(number):
                cc_region = phonenumbers.region_code_for_country_code(number.country_code)
                return 0.55, False, None if cc_region == "ZZ" else cc_region
        if not bare and not international and _TRUNK_GROUPED.match(core):
            region = self._national_region(core)
            if region is not None:
                return (0.75 if context else 0.6), False, region or None
        if context and fallback and not _HAS_DOTTED_QUAD.search(core):
            return 0.45, False, None  # a phone word and a phone layout: enough together
        return None

    def detect(self, text: str) -> Iterator[Span]:
        _, regex = self._compiled[0]
        for m in regex.finditer(text):
            start, end = m.span()
            if _GLUED_AFTER.match(text, end):
                # The last group belongs to what follows ("... 4567 10.0.0.7", "... 12abc").
                end = start + _LAST_GROUP.search(m.group()).start()  # type: ignore[union-attr]
            if sum(c.isdigit() for c in text[start:end]) < self.MIN_DIGITS:
                continue
            start = _phone_start(text, start)
            if start < 0:
                continue
            context = self.has_context(text, start, end) or bool(
                self.CONTEXT_AFTER.match(text[end : end + 16])
            )
            # Without a phone word only the whole match is judged: trying its sub-runs costs a
            # parse each and mostly finds numbers inside card numbers and IBANs.
            value = text[start:end]
            if value.count("(") != value.count(")"):
                continue
            candidates = self._candidates(value, start) if context else [(start, end)]
            # A number that parses wins over the whole run kept on context alone.
            best = next(
                (
                    (s, e, judged)
                    for s, e in candidates
                    if (judged := self._judge(text[s:e], context, fallback=False)) is not None
                ),
                None,
            )
            if best is None and (judged := self._judge(text[start:end], context)) is not None:
                best = (start, end, judged)
            if best is not None:
                s, e, (score, validated, region) = best
                yield Span(s, e, self.ENTITY, score, validated, region, self.name)

    @staticmethod
    def _candidates(value: str, offset: int) -> Iterator[tuple[int, int]]:
        """The whole match, then runs of its digit groups, longest first (a phone number
        followed by an unrelated number: "555-123-4567 42")."""
        yield offset, offset + len(value)
        if _EXTENSION.search(value):
            return
        groups = [g.span() for g in _PHONE_GROUP.finditer(value)]
        if len(groups) < 3 or len(groups) > 8:
            return
        n = len(groups)
        for size in range(n - 1, 1, -1):
            for first in range(n - size + 1):
                s, e = groups[first][0], groups[first + size - 1][1]
                if s > 0 and value[s - 1] == "+":
                    s -= 1
                yield offset + s, offset + e


_URL_TRAILING = ".,;:!?'\"*_"


class UrlDetector(PatternDetector):
    """Web addresses that start with ``http(s)://`` or ``www.``; never bare ``obj.method`` text."""

    ENTITY = "URL"
    PATTERNS = (
        Pattern(
            "url",
            r"(?<![\w@.-])(?:https?://|www\.)[^\s<>\"'`{}|\\^\[\]]{2,2000}+",
            0.8,
            flags=re.IGNORECASE,
        ),
    )

    def validate(self, value: str) -> Verdict:
        url = value if "://" in value else "http://" + value
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return REJECT
        if "." not in host and host != "localhost" and ":" not in host:
            return REJECT
        return Verdict(True, True, None)

    def detect(self, text: str) -> Iterator[Span]:
        low = lowered(text)
        starts = sorted({*_find_all(low, "http"), *_find_all(low, "www.")})
        _, regex = self._compiled[0]
        done = 0
        for i in starts:
            if i < done or (m := regex.match(text, i)) is None:
                continue
            start, end = m.span()
            done = end
            end = start + len(_trim_url(m.group()))
            value = text[start:end]
            verdict = self.validate(value)
            if verdict.ok and end > start:
                yield Span(start, end, self.ENTITY, 0.8, verdict.validated, None, self.name)


def _find_all(text: str, word: str) -> Iterator[int]:
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def _trim_url(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from the end of a URL."""
    while url:
        last = url[-1]
        if last in _URL_TRAILING:
            url = url[:-1]
        elif last == ")" and url.count("(") < url.count(")"):
            url = url[:-1]
        else:
            break
    return url

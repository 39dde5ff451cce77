"""Keyed, format-preserving doubles: the stand-ins Doppel sends in place of personal data.

A double is derived from ``HMAC-SHA256(key, type ‖ normalised original ‖ attempt)``: the digest
seeds a ``random.Random`` (and, for free-text types, a per-locale Faker), so the same original
always gets the same double under one key, in any process on any machine that runs the same
versions of Python, Faker and phonenumbers. Each type has one generator in ``GENERATORS`` that keeps
the format of its type: a card stays Luhn-valid, an IBAN keeps its country and passes mod-97, a
phone number keeps its layout and its country code, an id passes its python-stdnum validator.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import importlib
import ipaddress
import random
import re
import string
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from faker import Faker
from faker.config import AVAILABLE_LOCALES
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import luhn, verhoeff
from stdnum.es import ccc as es_ccc
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as fr_nir
from stdnum.iso7064 import mod_11_10, mod_97_10
from stdnum.it import codicefiscale as it_cf
from stdnum.us import ein as us_ein
from stdnum.us import rtn as us_rtn
from stdnum.us import ssn as us_ssn

from engine.entities import EntityType

__all__ = [
    "DESCRIPTIONS",
    "GENERATORS",
    "DoubleError",
    "Draw",
    "Generator",
    "Pseudonymizer",
    "normalize",
]

_MAX_ATTEMPTS = 16  # generator re-runs (same stream) until the double differs from the original
COMMON_WORD_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")


@functools.cache
def common_words() -> frozenset[str]:
    """Everyday words of the core languages (Faker's word lists, casefolded). A double must not
    be one: "Miller" -> "Case" would restore every "case" in the answer to "Miller"."""
    return frozenset(
        w.casefold()
        for loc in COMMON_WORD_LOCALES
        for w in importlib.import_module(f"faker.providers.lorem.{loc}").Provider.word_list
    )


_DIGITS = string.digits
_UPPER = string.ascii_uppercase
_LOWER = string.ascii_lowercase


class DoubleError(ValueError):
    """No double distinct from the original exists (e.g. a value without letters or digits)."""


# --------------------------------------------------------------------------------------------
# normalisation: what counts as "the same original"
# --------------------------------------------------------------------------------------------

_ALNUM_UPPER_TYPES = frozenset(
    {
        EntityType.CREDIT_CARD,
        EntityType.IBAN,
        EntityType.SSN,
        EntityType.NATIONAL_ID,
        EntityType.TAX_ID,
        EntityType.PASSPORT,
        EntityType.DRIVER_LICENSE,
        EntityType.BANK_ACCOUNT,
        EntityType.ROUTING_NUMBER,
        EntityType.SWIFT_BIC,
        EntityType.VIN,
        EntityType.LICENSE_PLATE,
        EntityType.POSTAL_CODE,
        EntityType.MAC_ADDRESS,
    }
)
_CASE_SENSITIVE_TYPES = frozenset({EntityType.PASSWORD, EntityType.API_KEY, EntityType.URL})


def normalize(entity_type: str, original: str) -> str:
    """The key under which two spellings of one value share a double.

    E-mails are lower-cased, numbers and codes keep only letters and digits (upper-cased), phone
    numbers and ages only digits, IPs their canonical text, dates of birth their ISO date, secrets
    and URLs stay exact, everything else (names, places) is case-folded with spaces collapsed.
    """
    text = original.strip()
    if entity_type == EntityType.EMAIL:
        return text.lower()
    if entity_type in (EntityType.PHONE, EntityType.AGE):
        digits = "".join(c for c in text if c.isdigit())
        return digits or text
    if entity_type in _ALNUM_UPPER_TYPES:
        compact = "".join(c for c in text if c.isalnum()).upper()
        return compact or text
    if entity_type == EntityType.IP_ADDRESS:
        try:
            return str(ipaddress.ip_address(text.strip("[]")))
        except ValueError:
            return text.lower()
    if entity_type == EntityType.DATE_OF_BIRTH:
        parsed = _parse_date(text, "en_US")
        return parsed[0].isoformat() if parsed else text.casefold()
    if entity_type in _CASE_SENSITIVE_TYPES:
        return text
    return " ".join(text.casefold().split())


# --------------------------------------------------------------------------------------------
# the per-call random source
# --------------------------------------------------------------------------------------------


@dataclass
class _Resources:
    """Slow-to-build things shared by all calls of one Pseudonymizer: Fakers, name lists."""

    fakers: dict[str, Faker] = field(default_factory=dict)
    names: dict[tuple[str, str], tuple[Sequence[str], Sequence[float] | None]] = field(
        default_factory=dict
    )

    def faker(self, locale: str) -> Faker:
        if locale not in self.fakers:
            self.fakers[locale] = Faker(locale)
        return self.fakers[locale]

    def name_list(self, locale: str, kind: str) -> tuple[Sequence[str], Sequence[float] | None]:
        """Faker's first or last names for a locale (3+ letters), with cumulative weights if any.

        A locale without such names (or with only shorter ones) borrows en_US's.
        """
        key = (locale, kind)
        if key not in self.names:
            pairs: list[tuple[str, float]] = []
            for source in (locale, "en_US"):
                pairs = _name_pairs(self.faker(source), kind)
                if pairs:
                    break
            names = [n for n, _ in pairs] or ["Taylor"]
            weights: list[float] | None = None
            if len({w for _, w in pairs}) > 1:
                total, weights = 0.0, []
                for _, w in pairs:
                    total += w
                    weights.append(total)
            self.names[key] = (names, weights)
        return self.names[key]


def _name_pairs(fake: Faker, kind: str) -> list[tuple[str, float]]:
    """(name, weight) for every ``first``/``last`` name of 3+ letters a Faker's providers hold."""
    for provider in fake.providers:
        raw = getattr(provider, f"{kind}_names", None)
        if raw:
            items = raw.items() if isinstance(raw, dict) else ((n, 1.0) for n in raw)
            pairs = {n: float(w) for n, w in items if len(n) >= 3 and n.isalpha()}
            return list(pairs.items())
    return []


@dataclass
class Draw:
    """What a generator may use: a seeded ``rng``, a lazily seeded Faker and Faker's name lists."""

    rng: random.Random
    locale: str
    region: str
    _resources: _Resources

    def faker(self) -> Faker:
        """The locale's Faker, reseeded from ``rng`` (callers hold the Pseudonymizer's lock)."""
        fake = self._resources.faker(self.locale)
        fake.seed_instance(self.rng.getrandbits(64))
        return fake

    def name(self, kind: str, avoid: str = "") -> str:
        """A first (``kind="first"``) or last name of 3+ letters that is not ``avoid``."""
        names, weights = self._resources.name_list(self.locale, kind)
        name = names[0]
        for _ in range(20):
            if weights:
                name = self.rng.choices(names, cum_weights=weights)[0]
            else:
                name = self.rng.choice(names)
            if name.casefold() != avoid.casefold():
                break
        return name


Generator = Callable[[Draw, str, str | None], str]


# --------------------------------------------------------------------------------------------
# small shared helpers
# --------------------------------------------------------------------------------------------


def _scramble(rng: random.Random, text: str, letters: str = _UPPER) -> str:
    """Character-class-preserving random: digit→digit, upper→upper, lower→lower, rest kept."""
    out = []
    for c in text:
        if c.isdigit():
            out.append(rng.choice(_DIGITS))
        elif c.isalpha():
            new = rng.choice(letters)
            out.append(new.lower() if c.islower() else new.upper())
        else:
            out.append(c)
    return "".join(out)


def _compact(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).upper()


def _fill(layout: str, chars: str) -> str:
    """Put ``chars`` into the letter/digit positions of ``layout``, keeping separators and case."""
    it = iter(chars)
    out = []
    for c in layout:
        if c.isalnum():
            new = next(it)
            out.append(new.lower() if c.islower() else new)
        else:
            out.append(c)
    return "".join(out)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_DIGITS) for _ in range(n))


def _letters(rng: random.Random, n: int, alphabet: str = _UPPER) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _case_like(template: str, text: str) -> str:
    """Give ``text`` the case style of ``template``: UPPER, lower or as generated (Title)."""
    letters = [c for c in template if c.isalpha()]
    if not letters:
        return text
    if all(c.isupper() for c in letters) and len(letters) > 1:
        return text.upper()
    if all(c.islower() for c in letters):
        return text.lower()
    return text


def _scramble_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Fallback for any type: same length, same class of each character, separators kept."""
    return _scramble(draw.rng, original)


# --------------------------------------------------------------------------------------------
# names, places, companies (Faker)
# --------------------------------------------------------------------------------------------

_NAME_PART_RE = re.compile(r"([\s\-]+)")


def _name_gen(kind: str) -> Generator:
    def generate(draw: Draw, original: str, subtype: str | None) -> str:
        parts = _NAME_PART_RE.split(original.strip())
        out = []
        for i, part in enumerate(parts):
            if i % 2 or not part:
                out.append(part)
                continue
            out.append(_case_like(part, draw.name(kind, avoid=part)))
        return "".join(out)

    return generate


def _faker_gen(method: str) -> Generator:
    def generate(draw: Draw, original: str, subtype: str | None) -> str:
        fake = draw.faker()
        value = getattr(fake, method, None)
        text = value() if callable(value) else fake.city()
        return _case_like(original, str(text))

    return generate


def _street_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Faker's street address; a street written without a number gets a street name only."""
    fake = draw.faker()
    text = fake.street_address() if any(c.isdigit() for c in original) else fake.street_name()
    return _case_like(original, text)


def _state_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Faker's state (abbreviation for a two-letter original); other locales: region or city."""
    fake = draw.faker()
    stripped = original.strip()
    if len(stripped) == 2 and stripped.isalpha() and hasattr(fake, "state_abbr"):
        return _case_like(stripped, fake.state_abbr())
    for method in ("state", "administrative_unit", "region", "city"):
        if hasattr(fake, method):
            return _case_like(original, str(getattr(fake, method)()))
    return _case_like(original, fake.city())


def _country_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Faker's country; an ISO code (``DE``, ``DEU``) gets an ISO code of the same length."""
    fake = draw.faker()
    stripped = original.strip()
    if stripped.isalpha() and stripped.isupper() and len(stripped) in (2, 3):
        return fake.country_code("alpha-2" if len(stripped) == 2 else "alpha-3")
    return _case_like(original, fake.country())


# --------------------------------------------------------------------------------------------
# contact: e-mail, phone, URL
# --------------------------------------------------------------------------------------------

# Mailbox providers name no one: keeping them keeps the double plausible ("@gmail.com").
_PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "outlook.com",
        "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com", "msn.com", "icloud.com",
        "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net",
        "web.de", "t-online.de", "orange.fr", "free.fr", "laposte.net", "mail.ru", "yandex.ru",
        "qq.com", "163.com", "zoho.com", "fastmail.com", "tutanota.com", "libero.it",
    }
)  # fmt: skip
# Well-known sites: the host names no one, the path after it does.
_PUBLIC_HOSTS = frozenset(
    {
        "github.com", "gitlab.com", "linkedin.com", "twitter.com", "x.com", "facebook.com",
        "instagram.com", "youtube.com", "tiktok.com", "medium.com", "reddit.com",
        "bitbucket.org", "drive.google.com", "docs.google.com", "dropbox.com", "t.me",
    }
)  # fmt: skip
_SECOND_LEVEL = frozenset({"co", "com", "ac", "gov", "org", "net", "edu", "ltd", "plc"})
_KEEP_LABELS = frozenset({"www", "mail", "email", "m", "api", "app", "blog", "shop"})
_LOCAL_TOKEN_RE = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")


def _fake_domain(draw: Draw, domain: str) -> str:
    """Replace the registrable name (and unknown subdomains) of ``domain``; keep its suffix."""
    labels = domain.split(".")
    suffix_len = 1
    if len(labels) >= 3 and labels[-2].lower() in _SECOND_LEVEL and len(labels[-1]) == 2:
        suffix_len = 2
    suffix_len = min(suffix_len, len(labels) - 1)
    out = []
    for label in labels[: len(labels) - suffix_len]:
        if label.lower() in _KEEP_LABELS:
            out.append(label)
        else:
            word = draw.name("last", avoid=label).lower()
            word = "".join(c for c in word if c in _LOWER) or "mail"
            out.append(_case_like(label, word))
    return ".".join(out + labels[len(labels) - suffix_len :])


def _alpha_word(draw: Draw, token: str, first: bool) -> str:
    """A name-like replacement for one alphabetic run: an initial stays a letter."""
    if len(token) == 1:
        letter = draw.rng.choice(_LOWER)
        return letter if token.islower() else letter.upper()
    word = draw.name("first" if first else "last", avoid=token)
    word = "".join(c for c in word if c.isascii() and c.isalpha()) or "sam"
    if token.islower():
        return word.lower()
    if token.isupper():
        return word.upper()
    return word[0].upper() + word[1:].lower()


def _digit_run(rng: random.Random, token: str) -> str:
    """Random digits of the same count; a year-like run (19xx/20xx) stays a plausible year."""
    if len(token) == 4 and token[:2] in ("19", "20"):
        return str(rng.randint(1955, 2009))
    return _digits(rng, len(token))


def _email_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Name-like local part with the original's separators and digit runs, @ a fake domain."""
    local, at, domain = original.rpartition("@")
    if not at or not local:
        return _scramble(draw.rng, original, _LOWER)
    tokens = _LOCAL_TOKEN_RE.findall(local)
    has_separator = any(not t[0].isalnum() for t in tokens)
    out, seen_alpha = [], False
    for token in tokens:
        if token[0].isalpha():
            out.append(_alpha_word(draw, token, first=has_separator and not seen_alpha))
            seen_alpha = True
        elif token[0].isdigit():
            out.append(_digit_run(draw.rng, token))
        else:
            out.append(token)
    new_domain = domain if domain.lower() in _PUBLIC_MAIL_DOMAINS else _fake_domain(draw, domain)
    return "".join(out) + "@" + new_domain


_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)?(?P<host>[^/?#:]+)(?P<rest>.*)$")
_URL_TOKEN_RE = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")
_FILE_EXTENSIONS = frozenset(
    {
        "html", "htm", "php", "asp", "aspx", "jsp", "pdf", "png", "jpg", "jpeg", "gif", "svg",
        "txt", "csv", "json", "xml", "doc", "docx", "xls", "xlsx", "zip", "md", "js", "css",
    }
)  # fmt: skip


def _url_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Keep scheme, port, separators, file extensions and query keys; fake the host unless public.

    Path and query words can name people (``/in/jane-doe``, ``?user=jdoe``): words of 3+ letters
    become name-like words, digit runs random digits.
    """
    match = _URL_RE.match(original)
    if not match:
        return _scramble(draw.rng, original, _LOWER)
    scheme, host, rest = match.group("scheme") or "", match.group("host"), match.group("rest")
    bare = host.lower().removeprefix("www.")
    if bare not in _PUBLIC_HOSTS:
        host = _fake_domain(draw, host) if "." in host else _scramble(draw.rng, host, _LOWER)
    tokens = _URL_TOKEN_RE.findall(rest)
    out = []
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        prev = tokens[i - 1] if i else ""
        if token[0].isdigit():
            # a port (":8080") stays, any other digit run is replaced
            out.append(token if prev == ":" and i == 1 else _digit_run(draw.rng, token))
        elif token[0].isalpha():
            keep = (
                len(token) <= 2
                or nxt.startswith("=")
                or (prev == "." and token.lower() in _FILE_EXTENSIONS)
            )
            out.append(token if keep else _alpha_word(draw, token, first=False))
        else:
            out.append(token)
    return scheme + host + "".join(out)


def _phone_region(draw: Draw, subtype: str | None) -> str:
    if subtype and len(subtype) == 2 and subtype.isalpha():
        return subtype.upper()
    return draw.region


def _phone_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Same layout and country code, new subscriber digits that phonenumbers calls valid.

    The digits before the national number (``+``/``00`` and country code, trunk ``0``) and the
    first national digit are kept; the rest is drawn until the number is valid in the original's
    region and of the same type (mobile stays mobile). After 24 tries the national destination
    code is kept too; after 48 a merely possible number is accepted, then any. A number that is
    not valid (or not of the default region when written without ``+CC``) keeps all but its
    last 7 digits.
    """
    rng = draw.rng
    digits = "".join(c for c in original if c.isdigit())
    text = original.strip()
    parse_text = "+" + text[2:].lstrip() if text.startswith("00") else text
    try:
        number = phonenumbers.parse(parse_text, _phone_region(draw, subtype))
    except phonenumbers.NumberParseException:
        number = None
    nsn = phonenumbers.national_significant_number(number) if number else ""
    region = phonenumbers.region_code_for_number(number) if number else None
    if (
        number is None
        or region is None
        or not nsn
        or not digits.endswith(nsn)
        or not phonenumbers.is_valid_number_for_region(number, region)
    ):
        keep = max(0, len(digits) - 7)
        return _fill_digits(original, digits[:keep] + _digits(rng, len(digits) - keep))

    head = digits[: len(digits) - len(nsn)]
    original_type = phonenumbers.number_type(number)
    candidate = phonenumbers.PhoneNumber(
        country_code=number.country_code,
        italian_leading_zero=number.italian_leading_zero,
        number_of_leading_zeros=number.number_of_leading_zeros,
    )
    kept, new_nsn = 1, nsn
    for attempt in range(72):
        if attempt == 24:
            kept = max(1, phonenumbers.length_of_national_destination_code(number))
        new_nsn = nsn[:kept] + _digits(rng, len(nsn) - kept)
        candidate.national_number = int(new_nsn)
        if attempt < 48:
            # region check first: number_type alone walks every region of a shared code (+1)
            if phonenumbers.is_valid_number_for_region(candidate, region) and (
                phonenumbers.number_type(candidate) == original_type
            ):
                break
        elif phonenumbers.is_possible_number(candidate):
            break
    return _fill_digits(original, head + new_nsn)


def _fill_digits(layout: str, digits: str) -> str:
    """Put ``digits`` into the digit positions of ``layout``; every other character stays."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in layout)


# --------------------------------------------------------------------------------------------
# finance
# --------------------------------------------------------------------------------------------


def _issuer_prefix_len(number: str) -> int:
    """How many leading digits name the card network (kept so a Visa stays a Visa)."""
    p2, p3, p4 = int(number[:2] or 0), int(number[:3] or 0), int(number[:4] or 0)
    if number.startswith("4"):
        return 1  # Visa
    if 2221 <= p4 <= 2720 or 3528 <= p4 <= 3589 or p4 == 6011:
        return 4  # Mastercard 2-series, JCB, Discover
    if 300 <= p3 <= 305 or 644 <= p3 <= 649:
        return 3  # Diners, Discover
    if p2 in (34, 37, 36, 38, 39, 62, 65) or 50 <= p2 <= 69:
        return 2  # Amex, Diners, UnionPay, Discover, Mastercard, Maestro
    return 2


def _card_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Same network prefix, length and grouping; random account digits; Luhn check digit."""
    digits = "".join(c for c in original if c.isdigit())
    if len(digits) < 8:
        return _scramble(draw.rng, original)
    keep = _issuer_prefix_len(digits)
    body = digits[:keep] + _digits(draw.rng, len(digits) - keep - 1)
    return _fill_digits(original, body + luhn.calc_check_digit(body))


def _iban_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Same country, length, grouping and BBAN character classes; mod-97 check digits.

    Letters in the BBAN (bank codes such as ``NWBK``, ``ABNA``) are kept: they name a bank, not a
    person, and so is the Belgian bank code. The countries whose stdnum module also checks
    national check digits (Belgium, Spain, Montenegro, Norway) get them computed.
    """
    rng = draw.rng
    number = _compact(original)
    if len(number) < 5 or not number[:2].isalpha():
        return _scramble(rng, original)
    country = number[:2]
    bban = list(number[4:])
    keep_prefix = 3 if country == "BE" else 0  # Belgian bank code must exist
    for i, c in enumerate(bban):
        if c.isdigit() and i >= keep_prefix:
            bban[i] = rng.choice(_DIGITS)
    new_bban = "".join(bban)
    national_check = _IBAN_NATIONAL_CHECKS.get(country)
    if national_check is not None and new_bban.isdigit():
        new_bban = national_check(new_bban)
    return _fill(original, _with_iban_check(country, new_bban))


def _be_bban(bban: str) -> str:
    """Belgium: the last two digits are the first ten mod 97 (97 for 0); stdnum keeps it private."""
    return bban[:10] + f"{int(bban[:10]) % 97 or 97:02d}"


def _me_bban(bban: str) -> str:
    """Montenegro: the whole BBAN is 1 mod 97 (ISO 7064 MOD 97-10)."""
    return bban[:-2] + mod_97_10.calc_check_digits(bban[:-2])


def _no_bban(bban: str) -> str:
    """Norway: a kontonr mod-11 check digit; bodies whose digit would be 10 are nudged."""
    for nudge in range(10):
        body = bban[:-2] + str((int(bban[-2]) + nudge) % 10)
        weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
        check = (11 - sum(w * int(n) for w, n in zip(weights, body, strict=True))) % 11
        if check < 10:
            return body + str(check)
    return bban


_IBAN_NATIONAL_CHECKS: dict[str, Callable[[str], str]] = {
    "BE": _be_bban,
    "ES": lambda b: b[:8] + es_ccc.calc_check_digits(b) + b[10:],
    "ME": _me_bban,
    "NO": _no_bban,
}


def _with_iban_check(country: str, bban: str) -> str:
    return country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban


def _routing_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """ABA routing number: a Federal Reserve prefix (01-12, 21-32), random digits, checksum."""
    digits = "".join(c for c in original if c.isdigit())
    if len(digits) != 9:
        return _scramble(draw.rng, original)
    prefix = draw.rng.choice([*range(1, 13), *range(21, 33)])
    body = f"{prefix:02d}" + _digits(draw.rng, 6)
    return _fill_digits(original, body + us_rtn.calc_check_digit(body))


def _bic_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Random bank code, same country code, location and branch kept in class; stdnum.bic-valid."""
    rng = draw.rng
    code = _compact(original)
    if len(code) not in (8, 11) or not stdnum_bic.is_valid(code):
        return _scramble(rng, original)
    location = _scramble(rng, code[6:8])
    branch = code[8:]
    if branch and branch != "XXX":
        branch = _scramble(rng, branch)
    return _fill(original, _letters(rng, 4) + code[4:6] + location + branch)


# --------------------------------------------------------------------------------------------
# government ids
# --------------------------------------------------------------------------------------------


def _ssn_digits(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        value = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if us_ssn.is_valid(value):
            return value


def _ssn_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """US SSN rules: area 001-899 except 666, group 01-99, serial 0001-9999; layout kept."""
    if sum(c.isdigit() for c in original) != 9:
        return _scramble(draw.rng, original)
    return _fill_digits(original, _ssn_digits(draw.rng))


def _gb_nino(rng: random.Random, old: str) -> str:
    """UK National Insurance number (python-stdnum has no module): HMRC's published prefix rules."""
    first = "ABCEGHJKLMNOPRSTWXYZ"
    second = "ABCEGHJKLMNPRSTWXYZ"
    while True:
        prefix = rng.choice(first) + rng.choice(second)
        if prefix not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
            break
    suffix = old[-1] if old[-1:] in ("A", "B", "C", "D") else rng.choice("ABCD")
    return prefix + _digits(rng, 6) + suffix


def _de_idnr(rng: random.Random, old: str) -> str:
    """German tax id: first 10 digits hold one digit twice, all others once; ISO 7064 check."""
    pool = list(_DIGITS)
    body = ["0"]
    while body[0] == "0":
        rng.shuffle(pool)
        body = pool[:9]
        body.insert(rng.randrange(10), rng.choice(body))
    text = "".join(body)
    return text + mod_11_10.calc_check_digit(text)


def _fr_nir(rng: random.Random, old: str) -> str:
    """French social security number: sex, year, month, department, commune, order, key."""
    sex = old[0] if old[:1] in ("1", "2") else rng.choice("12")
    department = old[5:7] if old[5:7] in ("2A", "2B") else f"{rng.randint(1, 95):02d}"
    if department == "20":
        department = "21"
    body = (
        sex
        + f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}"
        + department
        + f"{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    )
    return body + fr_nir.calc_check_digits(body + "00")


def _es_dni(rng: random.Random, old: str) -> str:
    body = _digits(rng, 8)
    return body + es_dni.calc_check_digit(body)


def _es_nie(rng: random.Random, old: str) -> str:
    body = (old[0] if old[:1] in ("X", "Y", "Z") else rng.choice("XYZ")) + _digits(rng, 7)
    return body + es_nie.calc_check_digit(body)


_CF_MONTHS = "ABCDEHLMPRST"
_CF_CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"


def _it_codicefiscale(rng: random.Random, old: str) -> str:
    """Italian fiscal code: name letters, birth date (gender kept), place, check letter."""
    female = len(old) == 16 and old[9:11].isdigit() and int(old[9:11]) > 40
    day = rng.randint(1, 28) + (40 if female else 0)
    body = (
        _letters(rng, 6, _CF_CONSONANTS)
        + f"{rng.randint(0, 99):02d}"
        + rng.choice(_CF_MONTHS)
        + f"{day:02d}"
        + rng.choice("ABCDEFGHILM")
        + f"{rng.randint(1, 999):03d}"
    )
    return body + it_cf.calc_check_digit(body)


def _ca_sin(rng: random.Random, old: str) -> str:
    first = old[0] if old[:1] and old[0] in "12345679" else rng.choice("1234567")
    body = first + _digits(rng, 7)
    return body + luhn.calc_check_digit(body)


def _in_aadhaar(rng: random.Random, old: str) -> str:
    body = rng.choice("23456789") + _digits(rng, 10)
    return body + verhoeff.calc_check_digit(body)


def _in_pan(rng: random.Random, old: str) -> str:
    """Indian PAN: the 4th letter (holder type: P person, C company, ...) is kept."""
    holder = old[3] if len(old) == 10 and old[3].isalpha() else "P"
    serial = f"{rng.randint(1, 9999):04d}"
    return _letters(rng, 3) + holder + _letters(rng, 1) + serial + _letters(rng, 1)


def _us_ein(rng: random.Random, old: str) -> str:
    while True:
        value = f"{rng.randint(1, 99):02d}" + _digits(rng, 7)
        try:
            us_ein.get_campus(value)
        except ValidationError:  # an unassigned prefix
            continue
        return value


def _us_itin(rng: random.Random, old: str) -> str:
    group = rng.choice([g for g in range(70, 100) if g not in (89, 93)])
    return "9" + _digits(rng, 2) + f"{group:02d}" + _digits(rng, 4)


_ID_BUILDERS: dict[str, Callable[[random.Random, str], str]] = {
    "gb.nino": _gb_nino,
    "de.idnr": _de_idnr,
    "fr.nir": _fr_nir,
    "es.dni": _es_dni,
    "es.nie": _es_nie,
    "it.codicefiscale": _it_codicefiscale,
    "ca.sin": _ca_sin,
    "in.aadhaar": _in_aadhaar,
    "in.pan": _in_pan,
    "us.ein": _us_ein,
    "us.itin": _us_itin,
    "us.ssn": lambda rng, old: _ssn_digits(rng),
}
_SUBTYPE_RE = re.compile(r"^[a-z]{2,3}(\.[a-z0-9_]+)?$")
_STDNUM_CACHE: dict[str, Any] = {}


def _stdnum_module(subtype: str) -> Any:
    """The python-stdnum module a subtype names (``in.pan`` → ``stdnum.in_.pan``), or None."""
    if subtype not in _STDNUM_CACHE:
        module = None
        if _SUBTYPE_RE.match(subtype):
            parts = subtype.split(".")
            if parts[0] in ("in", "is"):  # Python keywords: stdnum appends an underscore
                parts[0] += "_"
            try:
                module = importlib.import_module("stdnum." + ".".join(parts))
            except ImportError:
                module = None
            if module is not None and not hasattr(module, "is_valid"):
                module = None
        _STDNUM_CACHE[subtype] = module
    return _STDNUM_CACHE[subtype]


def _national_id_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """A value of the same scheme that passes its python-stdnum validator, in the same layout.

    Known schemes are built with their check digits; any other stdnum module is served by
    ``_stdnum_search``; an unknown or missing subtype, or a value of unexpected length, falls
    back to class-preserving random.
    """
    rng = draw.rng
    old = _compact(original)
    key = (subtype or "").lower()
    builder = _ID_BUILDERS.get(key)
    if builder is not None:
        new = builder(rng, old)
        if len(new) == len(old):
            return _fill(original, new)
        return _scramble(rng, original)
    module = _stdnum_module(key) if key else None
    found = _stdnum_search(rng, module, old) if module is not None and old else None
    return _fill(original, found) if found else _scramble(rng, original)


def _stdnum_search(rng: random.Random, module: Any, old: str) -> str | None:
    """Class-preserving random body, then every value of the last one or two characters.

    Schemes with a fixed prefix (``ch.ssn``'s 756) or an embedded date (``be.nn``) rarely pass
    with a fully random body, so later rounds keep a growing share of the original's leading
    characters. Bounded to about 2,000 ``is_valid`` calls; None when nothing passed.
    """
    budget = 2000
    n = len(old)
    for keep in (0, n // 4, n // 2, (2 * n) // 3):
        for _ in range(4):
            for tail in (1, 2):
                if n - tail <= keep:
                    continue
                body = old[:keep] + _scramble(rng, old[keep : n - tail])
                alphabets = [_DIGITS if c.isdigit() else _UPPER for c in old[n - tail :]]
                endings = (
                    alphabets[0]
                    if tail == 1
                    else [a + b for a in alphabets[0] for b in alphabets[1]]
                )
                for ending in endings:
                    budget -= 1
                    if module.is_valid(body + ending) and body + ending != old:
                        return body + ending
                    if budget <= 0:
                        return None
    return None


# --------------------------------------------------------------------------------------------
# network
# --------------------------------------------------------------------------------------------

# Most specific first: a double stays inside the block its original is in.
_IP_BLOCKS = [
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
        "169.254.0.0/16", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
        "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8",
        "::ffff:0:0/96", "2001:db8::/32", "fe80::/64", "fe80::/10", "fc00::/7", "ff00::/8", "::/8",
    )
]  # fmt: skip


def _ip_block(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Any:
    for block in _IP_BLOCKS:
        if block.version == addr.version and addr in block:
            return block
    return None


def _ip_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Same family and class: a private address stays in its block, a public one stays public.

    IPv6 keeps its zero groups and the hex-digit count of every other group, so the compressed
    text has the same shape; a ``/prefix`` or ``%zone`` suffix is kept; an IPv4-mapped IPv6
    address maps an IPv4 double.
    """
    text = original.strip()
    core, sep, suffix = text, "", ""
    for mark in ("/", "%"):
        if mark in core:
            core, suffix = core.split(mark, 1)
            sep = mark
            break
    try:
        addr = ipaddress.ip_address(core)
    except ValueError:
        return _scramble(draw.rng, original, "abcdef")
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        v4 = _ip_double(draw.rng, addr.ipv4_mapped)
        if v4 is None:
            return _scramble(draw.rng, original, "abcdef")
        head = core[: core.rfind(":") + 1] if "." in core else ""
        out = head + str(v4) if head else str(ipaddress.IPv6Address("::ffff:" + str(v4)))
    else:
        new = _ip_double(draw.rng, addr)
        if new is None:
            return _scramble(draw.rng, original, "abcdef")
        if new.version == 6 and core.count(":") == 7 and "::" not in core:
            out = new.exploded
        else:
            out = str(new)
    out = out.upper() if any(c in "ABCDEF" for c in core) else out
    return out + (sep + suffix if sep else "")


def _ip_double(
    rng: random.Random, addr: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Another address of the same block (or another global one); None after 64 tries."""
    block = _ip_block(addr)
    bits = addr.max_prefixlen
    prefix = block.prefixlen if block else 0
    base = int(block.network_address) if block else 0
    value = int(addr)
    for tries in range(64):
        if addr.version == 4:
            new_int = base | rng.getrandbits(bits - prefix) if prefix < bits else value
            if new_int & 0xFF in (0, 255):
                continue
        elif tries < 32:
            new_int = _ipv6_shaped(rng, value, prefix, public=block is None)
        else:  # the shape admits no other value (``::``, ``::1``): any address in the block
            new_int = base | rng.getrandbits(bits - prefix)
        new = type(addr)(new_int)
        if new_int == value:
            continue
        if block is None and (not new.is_global or new.is_multicast or _ip_block(new)):
            continue
        return new
    return None


def _ipv6_shaped(rng: random.Random, value: int, prefix: int, public: bool) -> int:
    """Random IPv6 with the prefix bits of ``value``, its zero groups, and its group widths."""
    groups = [(value >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    new = []
    for i, g in enumerate(groups):
        start = 16 * i
        if start + 16 <= prefix:
            new.append(g)
            continue
        if g == 0:
            new.append(0)
            continue
        width = len(f"{g:x}")
        if public and i == 0:
            r = rng.randint(0x2000, 0x3FFF)
        else:
            r = rng.randint(16 ** (width - 1), 16**width - 1)
        if start < prefix:  # the block boundary cuts this group: keep its high bits
            keep_bits = prefix - start
            mask = ((1 << keep_bits) - 1) << (16 - keep_bits)
            r = (g & mask) | (r & ~mask & 0xFFFF)
        new.append(r)
    out = 0
    for g in new:
        out = (out << 16) | g
    return out


def _mac_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Random hex digits, same separators and case; unicast/multicast and local bits kept."""
    rng = draw.rng
    lower = any(c in "abcdef" for c in original) or not any(c in "ABCDEF" for c in original)
    hexdigits = "0123456789abcdef" if lower else "0123456789ABCDEF"
    out, seen = [], 0
    for c in original:
        if c in string.hexdigits:
            if seen == 1:  # low nibble of the first octet carries the I/G and U/L bits
                nibble = (rng.randrange(16) & 0xC) | (int(c, 16) & 0x3)
                out.append(hexdigits[nibble])
            else:
                out.append(rng.choice(hexdigits))
            seen += 1
        else:
            out.append(c)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# dates and ages
# --------------------------------------------------------------------------------------------

_MONTHS = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip
_DATE_TOKEN_RE = re.compile(r"\d+|[A-Za-z]+|[^A-Za-z\d]+")


@dataclass
class _DateLayout:
    tokens: list[str]
    roles: dict[int, str]  # token index -> "Y", "y", "M", "D", "Mname", "ord"


def _month_from_name(token: str) -> int | None:
    low = token.lower()
    if len(low) < 3:
        return None
    for i, name in enumerate(_MONTHS):
        if name.startswith(low) or (low == "sept" and i == 8):
            return i + 1
    return None


def _parse_date(text: str, locale: str) -> tuple[dt.date, _DateLayout] | None:
    """Read a written date and how it is written (order, padding, month names, 2-digit years)."""
    tokens = _DATE_TOKEN_RE.findall(text)
    roles: dict[int, str] = {}
    numbers = [i for i, t in enumerate(tokens) if t.isdigit()]
    names = [i for i, t in enumerate(tokens) if t.isalpha() and _month_from_name(t)]
    year = month = day = None
    if len(numbers) == 1 and len(tokens[numbers[0]]) == 8 and not names:
        t = tokens[numbers[0]]
        try:
            return dt.date(int(t[:4]), int(t[4:6]), int(t[6:])), _DateLayout(tokens, {})
        except ValueError:
            return None
    if names and len(numbers) == 2:
        month = _month_from_name(tokens[names[0]])
        roles[names[0]] = "Mname"
        for i in numbers:
            if len(tokens[i]) == 4:
                roles[i], year = "Y", int(tokens[i])
            else:
                roles[i], day = "D", int(tokens[i])
                nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
                if nxt in ("st", "nd", "rd", "th"):
                    roles[i + 1] = "ord"
    elif len(numbers) == 3 and not names:
        a, b = tokens[numbers[0]], tokens[numbers[1]]
        if len(a) == 4:
            order = "YMD"
        else:
            dot = "." in text
            first, second = int(a), int(b)
            if first > 12 or dot:
                order = "DMY"
            elif second > 12:
                order = "MDY"
            else:
                order = "MDY" if locale.endswith("_US") else "DMY"
        for i, role in zip(numbers, order, strict=True):
            value = int(tokens[i])
            if role == "Y":
                roles[i] = "Y" if len(tokens[i]) == 4 else "y"
                year = (
                    value if len(tokens[i]) == 4 else (1900 + value if value > 25 else 2000 + value)
                )
            elif role == "M":
                roles[i], month = "M", value
            else:
                roles[i], day = "D", value
    if year is None or month is None or day is None:
        return None
    try:
        return dt.date(year, month, day), _DateLayout(tokens, roles)
    except ValueError:
        return None


def _render_date(date: dt.date, layout: _DateLayout) -> str:
    tokens = list(layout.tokens)
    if not layout.roles:  # compact YYYYMMDD
        return date.strftime("%Y%m%d")
    for i, role in layout.roles.items():
        old = tokens[i]
        if role == "Y":
            tokens[i] = f"{date.year:04d}"
        elif role == "y":
            tokens[i] = f"{date.year % 100:02d}"
        elif role in ("M", "D"):
            value = date.month if role == "M" else date.day
            tokens[i] = f"{value:02d}" if len(old) == 2 or value >= 10 else str(value)
        elif role == "Mname":
            name = _MONTHS[date.month - 1]
            if len(old) == 3 or old.lower() == "sept":  # abbreviated ("Mar", "Sept")
                name = name[:3]
            if old.isupper():
                name = name.upper()
            elif old[0].isupper():
                name = name.capitalize()
            tokens[i] = name
        elif role == "ord":
            day = date.day
            suffix = (
                "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
            )
            tokens[i] = suffix.upper() if old.isupper() else suffix
    return "".join(tokens)


def _dob_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Another plausible date 1-4 years away, written exactly like the original."""
    parsed = _parse_date(original, draw.locale)
    if parsed is None:
        return _scramble(draw.rng, original)
    date, layout = parsed
    shift = draw.rng.randint(30, 4 * 365) * draw.rng.choice((-1, 1))
    try:
        new = date + dt.timedelta(days=shift)
    except OverflowError:
        new = date - dt.timedelta(days=abs(shift))
    if any(r == "y" for r in layout.roles.values()) and new.year // 100 != date.year // 100:
        new = date - dt.timedelta(days=shift)  # keep a two-digit year in its century
    return _render_date(new, layout)


_DIGIT_RUN_RE = re.compile(r"\d+")


def _age_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """An age 1-5 years away (same number of digits when possible), the words around it kept."""
    match = _DIGIT_RUN_RE.search(original)
    rng = draw.rng
    if not match:
        return str(rng.randint(21, 79))
    age = int(match.group())
    candidates = [age + d for d in (-5, -4, -3, -2, -1, 1, 2, 3, 4, 5) if age + d >= 1]
    same_width = [a for a in candidates if len(str(a)) == len(match.group())]
    new = rng.choice(same_width or candidates)
    return original[: match.start()] + str(new) + original[match.end() :]


# --------------------------------------------------------------------------------------------
# secrets and vehicles
# --------------------------------------------------------------------------------------------

# Longest first: a prefix names the kind of key, not its owner, and keeps the double recognisable.
_API_KEY_PREFIXES = sorted(
    [
        "sk-ant-api03-", "sk-ant-admin01-", "sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-",
        "sk-", "sk_live_", "sk_test_", "pk_live_", "pk_test_", "rk_live_", "rk_test_",
        "whsec_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-",
        "xoxb-", "xoxp-", "xoxa-", "xoxs-", "xapp-", "AKIA", "ASIA", "AIza", "ya29.", "hf_",
        "npm_", "pypi-", "SG.", "shpat_", "shpss_", "dop_v1_", "key-", "gsk_", "xai-",
        "r8_", "pcsk_", "lin_api_", "ntn_", "secret_", "AccountKey=",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_B64URL = string.ascii_letters + string.digits + "-_"
_B64 = string.ascii_letters + string.digits + "+/"


def _api_key_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Known prefix kept (``sk-proj-``, ``ghp_``, ``AKIA``...), the rest class-preserving random.

    A JWT keeps its header (algorithm and type, no personal data) and the ``eyJ`` start of its
    payload; payload and signature become random base64url of the same lengths. A PEM block
    keeps its BEGIN/END and header lines and every line length.
    """
    rng = draw.rng
    if original.lstrip().startswith("-----BEGIN"):
        return _pem_gen(rng, original)
    parts = original.split(".")
    if len(parts) == 3 and parts[0].startswith("eyJ") and all(parts):
        payload = parts[1]
        keep = 3 if payload.startswith("eyJ") else 0
        new_payload = payload[:keep] + _letters(rng, len(payload) - keep, _B64URL)
        signature = _letters(rng, len(parts[2]), _B64URL)
        return ".".join((parts[0], new_payload, signature))
    for prefix in _API_KEY_PREFIXES:
        if original.startswith(prefix) and len(original) > len(prefix):
            return prefix + _scramble(rng, original[len(prefix) :], _UPPER)
    return _scramble(rng, original)


def _pem_gen(rng: random.Random, original: str) -> str:
    out = []
    for line in original.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if body.startswith("-----") or ":" in body or not body.strip():
            out.append(line)
            continue
        stripped = body.rstrip("=")
        pad = body[len(stripped) :]
        out.append(_letters(rng, len(stripped), _B64) + pad + ending)
    return "".join(out)


_VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # I, O and Q are never used
_VIN_VALUES = {c: v for v, chars in enumerate(
    ("0", "AJ1", "BKS2", "CLT3", "DMU4", "ENV5", "FW6", "GPX7", "HY8", "RZ9")
) for c in chars}  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _vin_check(vin: str) -> str:
    """ISO 3779 / FMVSS 565 check digit (position 9). python-stdnum has no VIN module."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def _vin_gen(draw: Draw, original: str, subtype: str | None) -> str:
    """Manufacturer (WMI, 1-3) and model year (10) kept, the rest random in the VIN alphabet.

    The check digit is recomputed when the original's check digit was right (North America).
    """
    rng = draw.rng
    vin = _compact(original)
    if len(vin) != 17 or any(c not in _VIN_VALUES for c in vin):
        return _scramble(rng, original)
    chars = list(vin)
    for i in [*range(3, 8), *range(10, 17)]:
        chars[i] = rng.choice(_DIGITS) if vin[i].isdigit() else rng.choice(_VIN_LETTERS)
    if _vin_check(vin) == vin[8]:
        chars[8] = _vin_check("".join(chars))
    return _fill(original, "".join(chars))


# --------------------------------------------------------------------------------------------
# the table and the pseudonymizer
# --------------------------------------------------------------------------------------------

GENERATORS: dict[str, Generator] = {
    EntityType.GIVEN_NAME: _name_gen("first"),
    EntityType.SURNAME: _name_gen("last"),
    EntityType.EMAIL: _email_gen,
    EntityType.PHONE: _phone_gen,
    EntityType.URL: _url_gen,
    EntityType.USERNAME: _scramble_gen,
    EntityType.STREET: _street_gen,
    EntityType.SECONDARY_ADDRESS: _faker_gen("secondary_address"),
    EntityType.CITY: _faker_gen("city"),
    EntityType.STATE: _state_gen,
    EntityType.POSTAL_CODE: _scramble_gen,
    EntityType.COUNTRY: _country_gen,
    EntityType.DATE_OF_BIRTH: _dob_gen,
    EntityType.AGE: _age_gen,
    EntityType.SSN: _ssn_gen,
    EntityType.NATIONAL_ID: _national_id_gen,
    EntityType.TAX_ID: _national_id_gen,
    EntityType.PASSPORT: _scramble_gen,
    EntityType.DRIVER_LICENSE: _scramble_gen,
    EntityType.CREDIT_CARD: _card_gen,
    EntityType.IBAN: _iban_gen,
    EntityType.BANK_ACCOUNT: _scramble_gen,
    EntityType.ROUTING_NUMBER: _routing_gen,
    EntityType.SWIFT_BIC: _bic_gen,
    EntityType.IP_ADDRESS: _ip_gen,
    EntityType.MAC_ADDRESS: _mac_gen,
    EntityType.API_KEY: _api_key_gen,
    EntityType.PASSWORD: _scramble_gen,
    EntityType.COMPANY: _faker_gen("company"),
    EntityType.LICENSE_PLATE: _scramble_gen,
    EntityType.VIN: _vin_gen,
}

_SAME_SCHEME = "same scheme (subtype = stdnum module), valid check digits, layout kept"
_CLASS_PRESERVING = "random letters/digits in the same positions, same length, separators kept"
DESCRIPTIONS: dict[str, str] = {
    EntityType.GIVEN_NAME: "Faker first name (locale), 3+ letters, same case style, per name part",
    EntityType.SURNAME: "Faker last name (locale), 3+ letters, same case style, per name part",
    EntityType.EMAIL: "name-like local part with the same separators/digit runs @ fake domain "
    "(same TLD; public mailbox domains such as gmail.com kept)",
    EntityType.PHONE: "same layout and country code, new digits valid per phonenumbers (same type)",
    EntityType.URL: "scheme, port, separators, extensions, query keys kept; fake host unless a "
    "public site; path words and digits replaced",
    EntityType.USERNAME: _CLASS_PRESERVING,
    EntityType.STREET: "Faker street address (street name if the original has no number)",
    EntityType.SECONDARY_ADDRESS: "Faker secondary address (Apt./Suite ...)",
    EntityType.CITY: "Faker city",
    EntityType.STATE: "Faker state (abbreviation for a two-letter original)",
    EntityType.POSTAL_CODE: _CLASS_PRESERVING,
    EntityType.COUNTRY: "Faker country (ISO code for an ISO-code original)",
    EntityType.DATE_OF_BIRTH: "date 1-4 years away written in exactly the original's format",
    EntityType.AGE: "age 1-5 years away, same digit count when possible",
    EntityType.SSN: "valid US SSN (area 001-899 but 666, group 01-99, serial 0001+), layout kept",
    EntityType.NATIONAL_ID: _SAME_SCHEME,
    EntityType.TAX_ID: _SAME_SCHEME,
    EntityType.PASSPORT: _CLASS_PRESERVING,
    EntityType.DRIVER_LICENSE: _CLASS_PRESERVING,
    EntityType.CREDIT_CARD: "same network prefix, length and grouping, Luhn-valid",
    EntityType.IBAN: "same country, length, grouping and bank letters; mod-97 valid (stdnum)",
    EntityType.BANK_ACCOUNT: _CLASS_PRESERVING,
    EntityType.ROUTING_NUMBER: "ABA routing number with a Federal Reserve prefix and checksum",
    EntityType.SWIFT_BIC: "random bank code, same country, stdnum.bic-valid, 8 or 11 chars",
    EntityType.IP_ADDRESS: "same family and block (private/loopback/link-local/public), same shape",
    EntityType.MAC_ADDRESS: "random hex, same separators, case and unicast/local bits",
    EntityType.API_KEY: "known prefix kept, rest class-preserving; JWT header kept; PEM shape kept",
    EntityType.PASSWORD: _CLASS_PRESERVING,
    EntityType.COMPANY: "Faker company",
    EntityType.LICENSE_PLATE: _CLASS_PRESERVING,
    EntityType.VIN: "manufacturer and model year kept, rest random, check digit recomputed",
}


def _region_of(locale: str) -> str:
    _, _, region = locale.partition("_")
    return region.upper() if len(region) == 2 else "US"


MADE_CACHE_SIZE = 16384  # doubles kept per pseudonymizer (a few MB at most)


class Pseudonymizer:
    """Makes keyed, deterministic doubles. Thread-safe; build one per key and keep it.

    Faker instances (one per locale, slow to build) are shared and reseeded on every call under a
    lock, so concurrent calls never see each other's seeds.
    """

    def __init__(self, key: bytes, locale: str = "en_US") -> None:
        if not key:
            raise ValueError("pseudonymizer key must not be empty")
        self._key = bytes(key)
        self._locale = locale if locale in AVAILABLE_LOCALES else "en_US"
        self._resources = _Resources()
        self._lock = threading.Lock()
        # Doubles already made, keyed by a keyed digest of (type, subtype, attempt, original):
        # a conversation resends its history every turn, and making a double costs ~150 µs.
        # The cache holds digests and doubles, never an original.
        self._made: OrderedDict[bytes, str] = OrderedDict()
        self._made_key = hmac.new(self._key, b"doppel-made-doubles", hashlib.sha256).digest()

    def for_tenant(self, tenant: str) -> Pseudonymizer:
        """A pseudonymizer under a key derived for ``tenant``: one tenant's doubles never match
        another's, so they can never restore in another tenant's exchange."""
        key = hmac.new(self._key, b"doppel-tenant\x1f" + tenant.encode(), hashlib.sha256).digest()
        return Pseudonymizer(key, self._locale)

    def seed(self, entity_type: str, original: str, attempt: int = 0) -> bytes:
        """``HMAC-SHA256(key, type ‖ normalised original ‖ attempt)``: the root of a double."""
        message = "\x1f".join((str(entity_type), normalize(entity_type, original), str(attempt)))
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).digest()

    def double(
        self, entity_type: str, original: str, subtype: str | None = None, attempt: int = 0
    ) -> str:
        """Deterministic double for ``original``; ``attempt > 0`` gives another one (on collision).

        Derived from HMAC-SHA256(key, type ‖ normalised original ‖ attempt), which seeds a
        ``random.Random`` and the locale's Faker. Never equal to the original (after normalising).
        """
        made_key = hashlib.blake2b(
            "\x1f".join((str(entity_type), subtype or "", str(attempt), original)).encode(
                "utf-8", "surrogatepass"
            ),
            digest_size=16,
            key=self._made_key,
        ).digest()
        with self._lock:
            made = self._made.get(made_key)
            if made is not None:
                self._made.move_to_end(made_key)
                return made
        made = self._make(entity_type, original, subtype, attempt)
        with self._lock:
            self._made[made_key] = made
            if len(self._made) > MADE_CACHE_SIZE:
                self._made.popitem(last=False)
        return made

    def _make(self, entity_type: str, original: str, subtype: str | None, attempt: int) -> str:
        rng = random.Random(int.from_bytes(self.seed(entity_type, original, attempt), "big"))
        locale = self._locale
        if subtype and "_" in subtype and subtype in AVAILABLE_LOCALES:
            locale = subtype  # free-text types may carry the text's locale as subtype
        draw = Draw(rng, locale, _region_of(locale), self._resources)
        generator = GENERATORS.get(entity_type, _scramble_gen)
        target = normalize(entity_type, original)
        with self._lock:
            for _ in range(_MAX_ATTEMPTS):
                out = generator(draw, original, subtype)
                if (
                    out != original
                    and normalize(entity_type, out) != target
                    and out.casefold() not in common_words()
                ):
                    return out
            for _ in range(_MAX_ATTEMPTS):
                out = _scramble(rng, original)
                if out != original and normalize(entity_type, out) != target:
                    return out
        raise DoubleError(f"no distinct double possible for a {entity_type} value")

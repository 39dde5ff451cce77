"""Credentials: provider API keys (fixed prefixes), JWTs, PEM private keys, and secret-looking
values assigned to keys such as ``password``, ``token`` or ``api_key``.

All emit ``API_KEY``; the subtype names the provider (``"aws"``, ``"github"``, ``"jwt"``,
``"pem"``, ``"generic"``, ...) so the double keeps the provider's prefix and alphabet.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import ClassVar

from engine.detectors.base import REJECT, Pattern, PatternDetector, Verdict, lowered
from engine.spans import Span

_B = r"(?<![\w-])"  # a token starts here
_E = r"(?![\w-])"  # and ends here

# Fixed prefixes, longest first where one is a prefix of another (sk-ant- before sk-).
_PREFIX_SUBTYPES: tuple[tuple[str, str], ...] = (
    ("AKIA", "aws"), ("ASIA", "aws"),
    ("github_pat_", "github"), ("ghp_", "github"), ("gho_", "github"), ("ghu_", "github"),
    ("ghs_", "github"), ("ghr_", "github"),
    ("glpat-", "gitlab"),
    ("xoxa-", "slack"), ("xoxb-", "slack"), ("xoxp-", "slack"), ("xoxr-", "slack"),
    ("xoxs-", "slack"),
    ("sk_live_", "stripe"), ("rk_live_", "stripe"), ("pk_live_", "stripe"), ("sk_test_", "stripe"),
    ("rk_test_", "stripe"),
    ("sk-ant-", "anthropic"), ("sk-", "openai"),
    ("AIza", "google"),
)  # fmt: skip


def _char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and other characters ``value`` uses."""
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    counts = Counter(value)
    n = len(value)
    return -sum(k / n * math.log2(k / n) for k in counts.values())


class ApiKeyDetector(PatternDetector):
    """Provider keys recognisable by their prefix: AWS access key ids, GitHub, GitLab, Slack,
    Stripe, OpenAI, Anthropic and Google API keys; and an AWS secret key after its name."""

    ENTITY = "API_KEY"
    PATTERNS = (
        Pattern("aws_key_id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", 0.9),
        Pattern(
            "aws_secret",
            r"(?i:aws)[\w.-]{0,20}?(?i:secret|sk)[\w-]{0,20}[\"']?[ \t]*[:=][ \t]*[\"']?"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
            0.9,
            group=1,
        ),
        Pattern(
            "github", _B + r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{22,250})" + _E, 0.95
        ),
        Pattern("gitlab", _B + r"glpat-[A-Za-z0-9_-]{20,250}+" + _E, 0.95),
        Pattern("slack", _B + r"xox[abprs]-[A-Za-z0-9-]{10,250}+" + _E, 0.9),
        Pattern(
            "stripe", _B + r"(?:(?:sk|rk)_(?:live|test)|pk_live)_[A-Za-z0-9]{16,247}" + _E, 0.95
        ),
        Pattern("openai_anthropic", _B + r"sk-[A-Za-z0-9_-]{20,250}+" + _E, 0.9),
        Pattern("google", _B + r"AIza[0-9A-Za-z_-]{35}" + _E, 0.9),
    )

    def validate(self, value: str) -> Verdict:
        subtype = next((s for p, s in _PREFIX_SUBTYPES if value.startswith(p)), "aws")
        if subtype in ("openai", "anthropic", "slack"):
            body = value.split("-", 2 if subtype == "anthropic" else 1)[-1]
            # "sk-spinner-rotating-plane" is a CSS class; real keys mix case and digits.
            if _char_classes(body.replace("-", "").replace("_", "")) < (
                2 if subtype == "slack" else 3
            ):
                return REJECT
        return Verdict(True, True, subtype)

    def detect(self, text: str) -> Iterator[Span]:
        if not any(
            hint in text
            for hint in ("AKIA", "ASIA", "gh", "gl", "xox", "sk", "_live_", "AIza", "aws", "AWS")
        ):
            return
        yield from super().detect(text)


class JwtDetector(PatternDetector):
    """JSON Web Tokens: three base64url parts whose header decodes to JSON with an ``alg``."""

    ENTITY = "API_KEY"
    PATTERNS = (
        Pattern(
            "jwt",
            r"(?<![\w.-])eyJ[A-Za-z0-9_-]{8,4000}+\.[A-Za-z0-9_-]{2,8000}+\.[A-Za-z0-9_-]{0,2000}+"
            r"(?![\w.-]|=)",
            0.95,
        ),
    )

    def validate(self, value: str) -> Verdict:
        header = value.split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (ValueError, binascii.Error):
            return REJECT
        if not isinstance(decoded, dict) or "alg" not in decoded:
            return REJECT
        return Verdict(True, True, "jwt")

    def detect(self, text: str) -> Iterator[Span]:
        if "eyJ" in text:
            yield from super().detect(text)


class PrivateKeyDetector(PatternDetector):
    """PEM private key blocks, BEGIN through END; a block cut off before END is taken to the
    end of its base64 body."""

    ENTITY = "API_KEY"
    PATTERNS = (
        Pattern(
            "pem",
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----"
            r"[A-Za-z0-9+/=\s:,.()-]{0,20000}?"
            r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----",
            1.0,
        ),
        Pattern(
            "pem_truncated",
            r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----"
            r"(?:\s*+[A-Za-z0-9-]++:[^\n]*+)*+\s*+[A-Za-z0-9+/=\r\n]{32,}+",
            0.95,
        ),
    )

    def validate(self, value: str) -> Verdict:
        return Verdict(True, True, "pem")

    def detect(self, text: str) -> Iterator[Span]:
        if "PRIVATE KEY" not in text:
            return
        complete: list[Span] = []
        for span in super().detect(text):
            if span.score == 1.0:
                complete.append(span)
                yield span
            elif not any(span.overlaps(c) for c in complete):
                yield span  # a block without its END line


_PASSWORD_KEYS = r"password|passwd|passphrase|passcode|pwd"
_TOKEN_KEYS = (
    r"secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key|client[_-]?secret"
    r"|credentials?|bearer"
)
# Placeholders, empty values and references to a value kept elsewhere: never a secret.
_PLACEHOLDER = re.compile(
    r"(?:x+|\*+|\.+|-+|#+|<.*>|\{.*\}|\[.*\]|\$\{.*|\$[A-Za-z_]\w*|%\(.*|%s|null|none|nil|true|false"
    r"|undefined|changeme|change_me|redacted|hidden|masked|example|sample|dummy|string|str|bytes"
    r"|required|optional|password|passwd|secret|token|your[_-].*|my[_-].*)",
    re.IGNORECASE,
)
# Code rather than a value: dotted names, calls, subscripts, generics, kebab or snake words.
_CODE_LIKE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[A-Za-z_][\w.]*[\[(<].*|[a-z]+(?:[-_.][a-z0-9]+)+"
    r"|[a-z]+(?:[A-Z][a-z]*)+|[A-Za-z]+"
)


# Words that start a key name, and how far before them the key's first letter may be
# ("api_key": the stem "key" is found, the match starts four characters earlier).
_KEY_STEMS = (
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "bearer",
)
_AUTH_STEMS = ("bearer", "token", "basic")
_STEM_BACK = {"key": 8, "secret": 7}


def stems_with_prefixes(stems: tuple[str, ...]) -> Iterator[tuple[str, int]]:
    for stem in stems:
        yield stem, _STEM_BACK.get(stem, 0)


class KeywordSecretDetector(PatternDetector):
    """Values assigned to a secret-sounding key: ``password: ...``, ``"secret": "..."``,
    ``token=...``, ``Authorization: Bearer ...``.

    A password value needs two character classes and six characters, so ``password: hunter2``
    is caught but ``password: str`` or ``password = get_password()`` are not. Token-like keys
    need twelve characters with a digit and three classes, or sixteen with entropy of at least
    3 bits per character, so names such as ``secretName: tls-cert`` pass. Lower-entropy prose
    passwords are left to the model's PASSWORD type.
    """

    ENTITY = "API_KEY"
    PATTERNS = (
        Pattern(
            "assignment",
            r"(?i:(?<![A-Za-z])(" + _PASSWORD_KEYS + r")|(" + _TOKEN_KEYS + r"))"
            r"[\w-]{0,30}+[\"']?[ \t]*+(?::=|=>|[:=]|(?<=[ \t])is[ \t])[ \t]*+"
            r"(?:\"([^\"\n]{1,256}+)\"|'([^'\n]{1,256}+)'|([^\s\"'`,;]{1,256}+))",
            0.8,
        ),
        Pattern(
            "authorization",
            r"(?i:\b(?:bearer|token|basic))[ \t]+([A-Za-z0-9._~+/-]{16,2048}+=*)",
            0.85,
            group=1,
        ),
    )
    MIN_PASSWORD: ClassVar[int] = 6
    MIN_TOKEN: ClassVar[int] = 12

    def judge(self, value: str, password: bool, quoted: bool) -> bool:
        """Whether a value assigned to a password-like (or token-like) key is a real secret."""
        if not quoted:
            value = value.rstrip(".,;:)]}")
        if value.startswith(("=", "$(", "`")) or _PLACEHOLDER.fullmatch(value):
            return False
        if not quoted and _CODE_LIKE.fullmatch(value):
            return False
        classes = _char_classes(value)
        if password:
            return len(value) >= self.MIN_PASSWORD and classes >= 2 and " " not in value
        if len(value) < self.MIN_TOKEN or " " in value or not any(c.isdigit() for c in value):
            return False
        return classes >= 3 or (classes >= 2 and len(value) >= 16 and shannon_entropy(value) >= 3.0)

    def _anchored(
        self, regex: re.Pattern[str], text: str, stems: tuple[str, ...]
    ) -> Iterator[re.Match]:
        """Matches of ``regex`` tried only where a key word occurs (found with ``str.find`` on
        the lower-cased text, a scan far cheaper than the case-insensitive regex)."""
        low = lowered(text)
        if len(low) != len(text):
            yield from regex.finditer(text)
            return
        starts: set[int] = set()
        for stem, back in stems_with_prefixes(stems):
            i = low.find(stem)
            while i >= 0:
                starts.update(range(max(0, i - back), i + 1))
                i = low.find(stem, i + 1)
        done = 0
        for i in sorted(starts):
            if i >= done and (m := regex.match(text, i)) is not None:
                done = m.end()
                yield m

    def detect(self, text: str) -> Iterator[Span]:
        (_, assignment), (_, authorization) = self._compiled
        for m in self._anchored(assignment, text, _KEY_STEMS):
            group = next(g for g in (3, 4, 5) if m.group(g) is not None)
            value = m.group(group)
            if not self.judge(value, m.group(1) is not None, group != 5):
                continue
            start = m.start(group)
            end = start + (len(value) if group != 5 else len(value.rstrip(".,;:)]}")))
            yield Span(start, end, self.ENTITY, 0.8, False, "generic", self.name)
        for m in self._anchored(authorization, text, _AUTH_STEMS):
            value = m.group(1)
            if self.judge(value, False, False):
                s, e = m.span(1)
                yield Span(s, e, self.ENTITY, 0.85, False, "generic", self.name)

"""Network identifiers: IP addresses (parsed with ``ipaddress``) and MAC addresses
(checked with ``stdnum.mac``)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from stdnum import mac

from engine.detectors.base import REJECT, Pattern, PatternDetector, Verdict
from engine.spans import Span

# "version 1.2.3.4", "v 10.0.0.1", "build: 4.18.2.1": a dotted quad after these is a version.
_VERSION_BEFORE = re.compile(
    r"(?:\bv|\bver|version|release|build|rev|revision|firmware|driver|sdk)"
    r"[ \t]*[:=#]?[ \t]*$",
    re.IGNORECASE,
)


_V4_HINT = re.compile(r"\.\d{1,3}\.\d{1,3}\.")
_V6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
_MAC_HINT = re.compile(
    r":[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}:|-[0-9A-Fa-f]{2}-[0-9A-Fa-f]{2}-|\.[0-9A-Fa-f]{4}\."
)


class IpAddressDetector(PatternDetector):
    """IPv4 and IPv6 addresses of hosts. Loopback, unspecified, multicast and netmask values
    identify nobody and are skipped, and so are dotted quads that follow the word "version".
    IPv6 outside today's unicast range is still an address someone wrote: it is kept."""

    ENTITY = "IP_ADDRESS"
    PATTERNS = (
        Pattern(
            "ipv4",
            r"\d(?<![\w.:/-]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d|-\w)",
            0.8,
        ),
        Pattern(
            "ipv6",
            r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}+"
            r"(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)",
            0.8,
        ),
    )

    def _detect(self, text: str) -> Iterator[Span]:
        (v4, v4_regex), (v6, v6_regex) = self._compiled
        # Cheap literal-led pre-checks decide whether the full scans are worth running.
        for pattern, regex, hint in ((v4, v4_regex, _V4_HINT), (v6, v6_regex, _V6_HINT)):
            if hint.search(text) is None:
                continue
            for m in regex.finditer(text):
                verdict = self.validate(m.group())
                if verdict.ok:
                    yield Span(
                        m.start(),
                        m.end(),
                        self.ENTITY,
                        pattern.score,
                        True,
                        verdict.subtype,
                        self.name,
                    )

    def validate(self, value: str) -> Verdict:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return REJECT
        if address.is_loopback or address.is_unspecified or address.is_multicast:
            return REJECT
        if address.version == 4:
            if address.is_reserved or value.startswith("255."):
                return REJECT  # a netmask or broadcast address
            return Verdict(True, True, "ipv4")
        hex_digits = sum(c not in ":." for c in value)
        if hex_digits < 6 or not any(c.isdigit() for c in value):
            return REJECT  # "dead::beef", "fe80::1", "a::b" read like code, not a host
        return Verdict(True, True, "ipv6")

    def detect(self, text: str) -> Iterator[Span]:
        for span in self._detect(text):
            if span.subtype == "ipv4" and _VERSION_BEFORE.search(
                text, max(0, span.start - 24), span.start
            ):
                continue
            yield span


class MacAddressDetector(PatternDetector):
    """MAC addresses in colon, dash (``00-1A-2B-...``) and Cisco dot (``001a.2b3c.4d5e``)
    layouts; subtype names the layout."""

    ENTITY = "MAC_ADDRESS"
    PATTERNS = (
        Pattern(
            "mac_colon_dash",
            r"(?<![\w:.-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:.-])",
            0.8,
        ),
        Pattern(
            "mac_dot",
            r"(?<![\w:.-])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w:]|[.-]\w)",
            0.7,
        ),
    )

    def detect(self, text: str) -> Iterator[Span]:
        if _MAC_HINT.search(text) is not None:
            yield from super().detect(text)

    def validate(self, value: str) -> Verdict:
        compact = value.replace(":", "").replace("-", "").replace(".", "").lower()
        if value.count(".") == 2 and compact.isdigit():
            return REJECT  # "1234.5678.9012" is a number, not a Cisco-style MAC
        if compact in ("000000000000", "ffffffffffff"):
            return REJECT
        colon_form = ":".join(compact[i : i + 2] for i in range(0, 12, 2))
        if not mac.is_valid(colon_form):
            return REJECT
        return Verdict(True, True, "dot" if "." in value else ("dash" if "-" in value else "colon"))

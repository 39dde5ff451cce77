"""EMAIL, PHONE and URL detectors: layouts they must find and near-misses they must not."""

from __future__ import annotations

import pytest

from engine.detectors.contact import EmailDetector, PhoneDetector, UrlDetector
from tests.engine.test_detectors_helpers import found, values

EMAIL = EmailDetector()
PHONE = PhoneDetector()
URL = UrlDetector()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to jane.doe@example.com today", "jane.doe@example.com"),
        ("cc: J.O'Neil <j_oneil+billing@mail.example.co.uk>", "j_oneil+billing@mail.example.co.uk"),
        ("Mail: MAX.MUSTER@FIRMA.DE.", "MAX.MUSTER@FIRMA.DE"),
        ("(contact: ops-team@sub.domain.io)", "ops-team@sub.domain.io"),
        ('{"email":"a.b@c-d.org"}', "a.b@c-d.org"),
    ],
)
def test_email_found(text: str, expected: str) -> None:
    assert values(EMAIL, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "retina asset icon@2x.png and logo@3x.jpg",
        "clone git@github.com:acme/shop.git first",
        "npm i lodash@4.17.21 @babel/core@7.24.0",
        "decorators like @property and @dataclass(frozen=True)",
        "image: registry/app@sha256:9f86d081884c7d65",
        "user@localhost is not routable",
        "a..b@example.com is not a valid local part",
    ],
)
def test_email_not_found(text: str) -> None:
    assert values(EMAIL, text) == []


@pytest.mark.parametrize(
    "text, expected, region",
    [
        ("Call me at (415) 555-2671 tomorrow", "(415) 555-2671", "US"),
        ("office 212-555-0143 ext. 12", "212-555-0143 ext. 12", "US"),
        ("direct line 650.253.0000", "650.253.0000", "US"),
        ("London +44 20 7946 0958", "+44 20 7946 0958", "GB"),
        ("Berlin +49 30 901820", "+49 30 901820", "DE"),
        ("Paris +33 1 42 68 53 00", "+33 1 42 68 53 00", "FR"),
        ("Zürich +41 (0)44 668 18 00", "+41 (0)44 668 18 00", "CH"),
        ("from abroad 0044 20 7946 0958", "0044 20 7946 0958", "GB"),
        ("US +1-202-456-1111", "+1-202-456-1111", "US"),
    ],
)
def test_phone_found(text: str, expected: str, region: str) -> None:
    assert found(PHONE, text) == [(expected, region)]


def test_phone_default_region_is_configurable() -> None:
    [span] = PhoneDetector("DE").detect("Ruf an: 030 901820")
    assert (span.validated, span.subtype) == (True, "DE")
    # Under a US default the same trunk-0 layout is still found, but only as a national
    # number that fits several regions: not validated.
    [span] = PhoneDetector("US").detect("Ruf an: 030 901820")
    assert not span.validated


@pytest.mark.parametrize(
    "text, expected",
    [
        ("please call 555 0199 after six", "555 0199"),  # possible only: needs the word "call"
        ("Tel. 2125551234", "2125551234"),  # bare digits: needs a phone word
        ("555-867-5309 (mobile)", "555-867-5309"),  # the label can follow the number
    ],
)
def test_phone_with_context(text: str, expected: str) -> None:
    assert values(PHONE, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Order #2125551234 shipped",
        "invoice 2125551234 is overdue",
        "released 2024-03-14 at 10:32",
        "server 192.168.100.200",
        "ratio 8.768507213 was measured",
        "card 4111 1111 1111 1111",
        "SSN 536-22-1234",
        "total $1,234,567.89",
        "epoch 1710412327 seconds",
        "build 20240314.1 of 3.14.2",
        "see lines 120-145 and 300-345",
    ],
)
def test_phone_not_found(text: str) -> None:
    assert values(PHONE, text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("docs at https://example.com/a/b?x=1&y=2.", "https://example.com/a/b?x=1&y=2"),
        ("(see http://example.org/wiki/Foo_(bar))", "http://example.org/wiki/Foo_(bar)"),
        ("visit www.example.co.uk, or not", "www.example.co.uk"),
        ("HTTPS://EXAMPLE.COM/PATH", "HTTPS://EXAMPLE.COM/PATH"),
        ("local http://localhost:8080/health", "http://localhost:8080/health"),
    ],
)
def test_url_found(text: str, expected: str) -> None:
    assert values(URL, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "call obj.method() then self.client.get(url)",
        "open report.pdf or main.py",
        "the http protocol and https handshakes",
        "https://nohost",
    ],
)
def test_url_not_found(text: str) -> None:
    assert values(URL, text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call (415) 555-2671 10.0.0.7", ["(415) 555-2671"]),
        ("(415) 555-2671abc", []),
        ("mobile +44 20 7946 0958, office +49 30 901820", ["+44 20 7946 0958", "+49 30 901820"]),
    ],
)
def test_phone_next_to_other_tokens(text: str, expected: list[str]) -> None:
    assert values(PHONE, text) == expected

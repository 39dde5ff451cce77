"""CREDIT_CARD, IBAN and SWIFT_BIC detectors."""

from __future__ import annotations

import pytest

from engine.detectors.finance import CreditCardDetector, IbanDetector, SwiftBicDetector, card_issuer
from tests.engine.test_detectors_helpers import found, values

CARD = CreditCardDetector()
IBAN = IbanDetector()
BIC = SwiftBicDetector()


@pytest.mark.parametrize(
    "number, issuer",
    [
        ("4111 1111 1111 1111", "visa"),
        ("4012-8888-8888-1881", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223 0031 2200 3222", "mastercard"),
        ("3782 822463 10005", "amex"),
        ("6011 1111 1111 1117", "discover"),
        ("3056 930902 5904", "diners"),
        ("3530 1113 3330 0000", "jcb"),
        ("6200 0000 0000 0005", "unionpay"),
        ("6759 6498 2643 8453", "maestro"),
    ],
)
def test_card_found(number: str, issuer: str) -> None:
    assert found(CARD, f"paid with {number} yesterday") == [(number, issuer)]


def test_card_followed_by_other_number() -> None:
    assert values(CARD, "4111 1111 1111 1111 123") == ["4111 1111 1111 1111"]


def test_card_outside_known_ranges_needs_card_word() -> None:
    number = "3590123456789015"  # Luhn-valid, no issuer range
    assert card_issuer(number) is None
    assert values(CARD, f"ref {number}") == []
    assert found(CARD, f"my card {number}") == [(number, "other")]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "5555-5555-5555-4445",
        "4111 1111-1111 1111",  # mixed separators
        "order 1234567890123456",
        "timestamp 1710501000123 ms",
        "phone +1 415 555 2671 4",
        "uuid 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    ],
)
def test_card_not_found(text: str) -> None:
    assert values(CARD, text) == []


@pytest.mark.parametrize(
    "text, expected, country",
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "GB82 WEST 1234 5698 7654 32", "GB"),
        ("to DE89370400440532013000.", "DE89370400440532013000", "DE"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606", "FR"),
        ("account NL91ABNA0417164300", "NL91ABNA0417164300", "NL"),
        ("es9121000418450200051332 lower case", "es9121000418450200051332", "ES"),
    ],
)
def test_iban_found(text: str, expected: str, country: str) -> None:
    assert found(IBAN, text) == [(expected, country)]


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 33",  # mod-97 fails
        "DE89370400440532013001",
        "DE8937040044053201300",  # wrong length for DE
        "XX89370400440532013000",  # no such country
        "sha AB12cdef0123456789abcdef0123",
    ],
)
def test_iban_not_found(text: str) -> None:
    assert values(IBAN, text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SWIFT: DEUTDEFF", "DEUTDEFF"),
        ("BIC code DEUTDEFF500 for the transfer", "DEUTDEFF500"),
        ("swift/bic NWBKGB2L", "NWBKGB2L"),
    ],
)
def test_bic_found(text: str, expected: str) -> None:
    assert values(BIC, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "DEUTDEFF without any hint",  # context required
        "SWIFT: ABSTRACT",  # no such country code
        "the BIC is deutdeff",  # lower case
    ],
)
def test_bic_not_found(text: str) -> None:
    assert values(BIC, text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2001:db8::8a2e:370:7334 4539 1488 0343 6467", ["4539 1488 0343 6467"]),
        ("DE89 3704 0044 0532 0130 00 4539 1488 0343 6467", ["4539 1488 0343 6467"]),
        ("4539 1488 0343 6467 203.0.113.14", ["4539 1488 0343 6467"]),
        ("4111111111111111 5555555555554444", ["4111111111111111", "5555555555554444"]),
        ("id 41111111111111115555", []),  # a compact run is never split
    ],
)
def test_card_next_to_other_numbers(text: str, expected: list[str]) -> None:
    assert values(CARD, text) == expected

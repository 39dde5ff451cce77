"""The default detector set as a whole: registry, no false positives on ordinary technical
text, linear-time regexes, and speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.detectors import default_detectors
from engine.detectors.base import Detector
from tests.engine.test_detectors_helpers import all_spans

CORPUS = Path(__file__).parent / "negative_corpus"
DETECTORS = default_detectors()


def test_registry() -> None:
    assert all(isinstance(d, Detector) for d in DETECTORS)
    assert len({d.name for d in DETECTORS}) == len(DETECTORS)
    types = {t for d in DETECTORS for t in d.entity_types}
    assert types >= {
        "EMAIL", "PHONE", "URL", "IP_ADDRESS", "MAC_ADDRESS", "CREDIT_CARD", "IBAN", "SWIFT_BIC",
        "SSN", "NATIONAL_ID", "TAX_ID", "PASSPORT", "DRIVER_LICENSE", "API_KEY", "DATE_OF_BIRTH",
    }  # fmt: skip


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_negative_corpus_has_no_spans(path: Path) -> None:
    assert all_spans(path.read_text(encoding="utf-8")) == []


def test_mixed_prompt() -> None:
    text = (
        "Customer Jane (jane.doe@example.com, +44 20 7946 0958) paid with 4111 1111 1111 1111 "
        "from 192.168.1.20; refund to GB82 WEST 1234 5698 7654 32. Order #123456789, "
        "app version 3.14.2, ticket INV-2024-000123, amount $1,234,567.89, on 2024-03-14."
    )
    assert [t for t, _ in all_spans(text)] == [
        "EMAIL",
        "PHONE",
        "CREDIT_CARD",
        "IP_ADDRESS",
        "IBAN",
    ]


@pytest.mark.parametrize(
    "hostile",
    [
        "1 " * 20000,
        "1-" * 20000,
        "a@" * 20000,
        "a." * 20000,
        "@a." * 20000,
        "12:" * 20000,
        "ab:" * 20000,
        "0" * 40000,
        "A1" * 20000,
        "password: " * 5000,
        "http://" + "a" * 40000,
        "eyJ" + "a" * 40000,
        "-----BEGIN PRIVATE KEY-----\n" * 1000,
        "born 1 " * 5000,
    ],
)
def test_linear_time_on_hostile_input(hostile: str) -> None:
    start = time.perf_counter()
    for d in DETECTORS:
        list(d.detect(hostile))
    assert time.perf_counter() - start < 3.0


def test_speed_on_a_2kb_prompt() -> None:
    text = (CORPUS / "app.log").read_text()[:1024] + (CORPUS / "cart.js").read_text()[:1024]
    for d in DETECTORS:  # warm caches
        list(d.detect(text))
    best = min(_time_once(text) for _ in range(5))
    assert best < 0.02  # generous for shared CI machines; typical is ~1 ms


def _time_once(text: str) -> float:
    start = time.perf_counter()
    for d in DETECTORS:
        list(d.detect(text))
    return time.perf_counter() - start

from __future__ import annotations

from engine.catalog import catalog, markdown
from engine.entities import EntityType

STRUCTURED = {"EMAIL", "PHONE", "URL", "IP_ADDRESS", "MAC_ADDRESS", "CREDIT_CARD", "IBAN",
              "SWIFT_BIC", "SSN", "NATIONAL_ID", "TAX_ID", "PASSPORT", "DRIVER_LICENSE",
              "API_KEY", "DATE_OF_BIRTH"}  # fmt: skip


def test_every_type_has_one_entry_with_a_double() -> None:
    entries = catalog()
    assert [e.type for e in entries] == [t.value for t in EntityType]
    assert all(e.double for e in entries)


def test_every_structured_type_is_found_by_a_detector() -> None:
    found = {e.type for e in catalog() if e.found_by != ("not yet detected",)}
    assert found >= STRUCTURED


def test_markdown_has_a_row_per_type() -> None:
    assert markdown(catalog()).count("\n") == len(EntityType) + 2

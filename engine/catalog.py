"""The entity catalog: for every type, how it is found, how it is validated, how its double is
made, and how the double may reappear in model output.

How a type is found and validated is read from the registered detectors (each detector's
docstring says what it accepts and which library checks it); how its double is made from
``engine.doubles.DESCRIPTIONS``. ``doppel catalog`` prints the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.entities import EntityType as T
from engine.restore import Match

_CASELESS = {T.GIVEN_NAME, T.SURNAME, T.EMAIL, T.URL, T.USERNAME, T.STREET, T.CITY, T.STATE,
             T.COUNTRY, T.COMPANY, T.SECONDARY_ADDRESS}  # fmt: skip
_SEPARATORS = {T.PHONE, T.CREDIT_CARD, T.IBAN, T.SSN, T.BANK_ACCOUNT}


def restore_match(entity_type: str) -> Match:
    """How a double of this type may come back: other case for names and places, other
    separators for number-like types, exactly for the rest."""
    if entity_type in _CASELESS:
        return Match.CASELESS
    if entity_type in _SEPARATORS:
        return Match.SEPARATORS
    return Match.EXACT


@dataclass(frozen=True)
class Entry:
    type: str
    found_by: tuple[str, ...]  # "Detector: what it accepts and how it is validated"
    double: str
    restore: Match


def catalog(detectors: Sequence[object] | None = None) -> list[Entry]:
    """One entry per entity type, in catalog order."""
    from engine.detectors import default_detectors
    from engine.doubles import DESCRIPTIONS

    detectors = default_detectors() if detectors is None else detectors
    found: dict[str, list[str]] = {}
    for d in detectors:
        doc = " ".join((type(d).__doc__ or "").split())
        for t in getattr(d, "entity_types", ()):
            found.setdefault(t, []).append(f"{getattr(d, 'name', type(d).__name__)}: {doc}")
    return [
        Entry(
            t.value,
            tuple(found.get(t.value, ())) or ("not yet detected",),
            DESCRIPTIONS.get(t.value, ""),
            restore_match(t.value),
        )
        for t in T
    ]


def markdown(entries: list[Entry]) -> str:
    rows = [
        "| type | found and validated by | double | restored when written |",
        "|---|---|---|---|",
    ]
    for e in entries:
        found = "<br>".join(f.replace("|", "\\|") for f in e.found_by)
        rows.append(f"| {e.type} | {found} | {e.double.replace('|', '/')} | {e.restore.value} |")
    return "\n".join(rows) + "\n"

"""The entity catalog: for every type, how it is found, how it is validated, how its double is
made, and how the double may reappear in model output."""

from __future__ import annotations

from engine.entities import EntityType as T
from engine.restore import Match

_CASELESS = {
    T.GIVEN_NAME,
    T.SURNAME,
    T.EMAIL,
    T.URL,
    T.USERNAME,
    T.STREET,
    T.CITY,
    T.STATE,
    T.COUNTRY,
    T.COMPANY,
    T.SECONDARY_ADDRESS,
}
_SEPARATORS = {T.PHONE, T.CREDIT_CARD, T.IBAN, T.SSN, T.BANK_ACCOUNT}


def restore_match(entity_type: str) -> Match:
    if entity_type in _CASELESS:
        return Match.CASELESS
    if entity_type in _SEPARATORS:
        return Match.SEPARATORS
    return Match.EXACT

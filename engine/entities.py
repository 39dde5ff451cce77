"""Names of the entity types Doppel knows. The catalog (``engine.catalog``) says, for each,
how it is found, how it is validated and how its double is made."""

from __future__ import annotations

from enum import StrEnum


class EntityType(StrEnum):
    # names (by parts: each part gets its own consistent double)
    GIVEN_NAME = "GIVEN_NAME"
    SURNAME = "SURNAME"
    # contact
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    URL = "URL"
    USERNAME = "USERNAME"
    # address
    STREET = "STREET"
    SECONDARY_ADDRESS = "SECONDARY_ADDRESS"
    CITY = "CITY"
    STATE = "STATE"
    POSTAL_CODE = "POSTAL_CODE"
    COUNTRY = "COUNTRY"
    # dates
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    AGE = "AGE"
    # government
    SSN = "SSN"
    NATIONAL_ID = "NATIONAL_ID"
    TAX_ID = "TAX_ID"
    PASSPORT = "PASSPORT"
    DRIVER_LICENSE = "DRIVER_LICENSE"
    # finance
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    ROUTING_NUMBER = "ROUTING_NUMBER"
    SWIFT_BIC = "SWIFT_BIC"
    # network
    IP_ADDRESS = "IP_ADDRESS"
    MAC_ADDRESS = "MAC_ADDRESS"
    # secrets
    API_KEY = "API_KEY"
    PASSWORD = "PASSWORD"
    # other
    COMPANY = "COMPANY"
    LICENSE_PLATE = "LICENSE_PLATE"
    VIN = "VIN"

"""Detectors: each finds one kind of personal data in text and yields spans.

:func:`default_detectors` is the registry of the pattern detectors for the structured types;
the model-based detector for free-text types is added beside them as just another
:class:`~engine.detectors.base.Detector`.
"""

from __future__ import annotations

from engine.detectors.base import Detector
from engine.detectors.contact import EmailDetector, PhoneDetector, UrlDetector
from engine.detectors.dates import DateOfBirthDetector
from engine.detectors.finance import CreditCardDetector, IbanDetector, SwiftBicDetector
from engine.detectors.government import (
    CaSinDetector,
    DeIdnrDetector,
    DriverLicenseDetector,
    EinDetector,
    EsDniDetector,
    EsNieDetector,
    FrNirDetector,
    GbNinoDetector,
    InAadhaarDetector,
    InPanDetector,
    ItCodiceFiscaleDetector,
    ItinDetector,
    NlBsnDetector,
    PassportDetector,
    SsnDetector,
)
from engine.detectors.network import IpAddressDetector, MacAddressDetector
from engine.detectors.secrets import (
    ApiKeyDetector,
    JwtDetector,
    KeywordSecretDetector,
    PrivateKeyDetector,
)

__all__ = ["Detector", "default_detectors"]


def default_detectors(phone_region: str = "US") -> list[Detector]:
    """One instance of every pattern detector. ``phone_region`` is the region whose national
    phone layouts (no ``+CC``) are recognised."""
    return [
        EmailDetector(),
        PhoneDetector(phone_region),
        UrlDetector(),
        IpAddressDetector(),
        MacAddressDetector(),
        CreditCardDetector(),
        IbanDetector(),
        SwiftBicDetector(),
        SsnDetector(),
        ItinDetector(),
        EinDetector(),
        GbNinoDetector(),
        DeIdnrDetector(),
        FrNirDetector(),
        EsDniDetector(),
        EsNieDetector(),
        ItCodiceFiscaleDetector(),
        NlBsnDetector(),
        CaSinDetector(),
        InAadhaarDetector(),
        InPanDetector(),
        PassportDetector(),
        DriverLicenseDetector(),
        ApiKeyDetector(),
        JwtDetector(),
        PrivateKeyDetector(),
        KeywordSecretDetector(),
        DateOfBirthDetector(),
    ]

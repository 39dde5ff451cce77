"""SSN, NATIONAL_ID, TAX_ID, PASSPORT and DRIVER_LICENSE detectors."""

from __future__ import annotations

import pytest

from engine.detectors import government as g
from tests.engine.test_detectors_helpers import found, values

SSN = g.SsnDetector()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SSN 536-22-1234", "536-22-1234"),
        ("my number is 536-22-1234.", "536-22-1234"),  # dashed layout stands alone
        ("social security number: 536221234", "536221234"),
        ("SSN 536 22 1234", "536 22 1234"),
    ],
)
def test_ssn_found(text: str, expected: str) -> None:
    assert found(SSN, text) == [(expected, "us.ssn")]


@pytest.mark.parametrize(
    "text",
    [
        "SSN 000-12-3456",
        "SSN 666-12-3456",
        "SSN 912-34-5678",  # 9xx is never issued (ITIN range)
        "SSN 536-00-1234",
        "SSN 536-22-0000",
        "SSN 078-05-1120",  # the famous wallet number
        "ticket 536221234 reopened",  # bare nine digits need context
        "part 536 22 1234 ordered",
        "ref 536-22-12345",
    ],
)
def test_ssn_not_found(text: str) -> None:
    assert values(SSN, text) == []


@pytest.mark.parametrize(
    "detector, text, expected, subtype",
    [
        (g.ItinDetector(), "ITIN 912-70-1234", "912-70-1234", "us.itin"),
        (g.ItinDetector(), "taxpayer id 912701234", "912701234", "us.itin"),
        (g.EinDetector(), "EIN: 12-3456789", "12-3456789", "us.ein"),
        (g.GbNinoDetector(), "NI number AB 12 34 56 C", "AB 12 34 56 C", "gb.nino"),
        (g.GbNinoDetector(), "nino AB123456C", "AB123456C", "gb.nino"),
        (g.DeIdnrDetector(), "Steuer-ID 36 574 261 809", "36 574 261 809", "de.idnr"),
        (g.DeIdnrDetector(), "Steueridentifikationsnummer: 36574261809", "36574261809", "de.idnr"),
        (
            g.FrNirDetector(),
            "numéro de sécurité sociale 2 95 10 99 126 111 93",
            "2 95 10 99 126 111 93",
            "fr.nir",
        ),
        (g.EsDniDetector(), "DNI 54362315K", "54362315K", "es.dni"),
        (g.EsNieDetector(), "residence X2482300W", "X2482300W", "es.nie"),
        (
            g.ItCodiceFiscaleDetector(),
            "CF RCCMNL83S18D969H",
            "RCCMNL83S18D969H",
            "it.codicefiscale",
        ),
        (g.NlBsnDetector(), "BSN 111222333", "111222333", "nl.bsn"),
        (g.CaSinDetector(), "SIN: 123 456 782", "123 456 782", "ca.sin"),
        (g.InAadhaarDetector(), "Aadhaar 2345 6789 0124", "2345 6789 0124", "in.aadhaar"),
        (g.InPanDetector(), "PAN ABCPE1234F", "ABCPE1234F", "in.pan"),
    ],
)
def test_ids_found(detector: g.IdDetector, text: str, expected: str, subtype: str) -> None:
    assert found(detector, text) == [(expected, subtype)]


def test_tax_and_national_types() -> None:
    assert g.DeIdnrDetector.ENTITY == g.InPanDetector.ENTITY == g.EinDetector.ENTITY == "TAX_ID"
    assert g.ItinDetector.ENTITY == "TAX_ID"
    assert (
        g.FrNirDetector.ENTITY == g.NlBsnDetector.ENTITY == g.GbNinoDetector.ENTITY == "NATIONAL_ID"
    )


@pytest.mark.parametrize(
    "detector, text",
    [
        (g.ItinDetector(), "ITIN 912-40-1234"),  # group outside the ITIN ranges
        (g.EinDetector(), "part 12-3456789"),  # no context
        (g.GbNinoDetector(), "nino QQ123456C"),  # Q never starts a NINO
        (g.GbNinoDetector(), "nino GB123456A"),  # GB prefix is not allocated
        (g.GbNinoDetector(), "nino AB123456E"),  # suffix A-D only
        (g.DeIdnrDetector(), "Steuer-ID 36 574 261 808"),  # check digit
        (g.DeIdnrDetector(), "order 36574261809"),  # context required
        (g.FrNirDetector(), "sécurité sociale 2 95 10 99 126 111 94"),
        (g.EsDniDetector(), "DNI 54362315A"),  # wrong letter
        (g.EsNieDetector(), "X2482300A"),
        (g.ItCodiceFiscaleDetector(), "RCCMNL83S18D969A"),
        (g.NlBsnDetector(), "BSN 111222334"),
        (g.NlBsnDetector(), "invoice 111222333"),
        (g.CaSinDetector(), "SIN 123 456 783"),
        (g.CaSinDetector(), "since 123 456 782"),  # "since" is not "SIN"
        (g.InAadhaarDetector(), "Aadhaar 2345 6789 0123"),
        (g.InAadhaarDetector(), "phone 2345 6789 0124"),
        (g.InPanDetector(), "ABCDE1234F"),  # D is no holder type
    ],
)
def test_ids_not_found(detector: g.IdDetector, text: str) -> None:
    assert values(detector, text) == []


@pytest.mark.parametrize(
    "detector, text, expected",
    [
        (g.PassportDetector(), "passport number: X12345678", "X12345678"),
        (g.PassportDetector(), "Reisepass C01X00T47", "C01X00T47"),
        (g.PassportDetector(), "Passport No. 533380006", "533380006"),
        (g.DriverLicenseDetector(), "driver's license D1234-5678-9012", "D1234-5678-9012"),
        (g.DriverLicenseDetector(), "DL# S53012345", "S53012345"),
        (g.DriverLicenseDetector(), "driving licence MORGA753116SM9IJ", "MORGA753116SM9IJ"),
    ],
)
def test_documents_found(detector: g.PatternDetector, text: str, expected: str) -> None:
    assert values(detector, text) == [expected]


@pytest.mark.parametrize(
    "detector, text",
    [
        (g.PassportDetector(), "ticket X12345678"),  # no context
        (g.PassportDetector(), "passport photo 2x3"),
        (g.DriverLicenseDetector(), "MIT license 2024 v3.1"),
        (g.DriverLicenseDetector(), "order S53012345"),
    ],
)
def test_documents_not_found(detector: g.PatternDetector, text: str) -> None:
    assert values(detector, text) == []

"""DATE_OF_BIRTH detector: only dates that the text says are birth dates."""

from __future__ import annotations

import pytest

from engine.detectors.dates import DateOfBirthDetector
from tests.engine.test_detectors_helpers import found, values

DOB = DateOfBirthDetector()


@pytest.mark.parametrize(
    "text, expected, layout",
    [
        ("date of birth: 1985-03-14", "1985-03-14", "iso"),
        ("DOB 03/14/1985", "03/14/1985", "mdy"),
        ("geboren am 14.03.1985 in Köln", "14.03.1985", "dmy"),
        ("born on March 14, 1985", "March 14, 1985", "text"),
        ("She was born 14 March 1985.", "14 March 1985", "text"),
        ("birthday: 3rd of June 1990", "3rd of June 1990", "text"),
        ("né le 14 mars 1985", "14 mars 1985", "text"),
        ("Geburtsdatum: 14. März 1985", "14. März 1985", "text"),
        ("D.O.B. 14/03/85", "14/03/85", "dmy"),
    ],
)
def test_dob_found(text: str, expected: str, layout: str) -> None:
    assert found(DOB, text) == [(expected, layout)]


@pytest.mark.parametrize(
    "text",
    [
        "released 2024-03-14",  # no birth word
        "invoice due March 14, 1985",
        "born in 1985",  # a year alone is not a date of birth
        "date of birth: 1985-02-30",  # no such day
        "born 2999-01-01",  # in the future
        "stillborn deployment 2024-03-14",  # word inside another word
        "DOB 1985-03-14; joined 2020-01-01",  # only the first date is the birth date
        "timestamp 1985-03-14T10:00:00Z born",  # the word follows the date
    ],
)
def test_dob_not_found(text: str) -> None:
    got = values(DOB, text)
    if text.startswith("DOB 1985"):
        assert got == ["1985-03-14"]
    else:
        assert got == []

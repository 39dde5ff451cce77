"""Dates of birth: a calendar date in a common layout, reported only when a birth word
("born", "DOB", "geboren", "né", ...) stands before it. Any other date is not personal data."""

from __future__ import annotations

import datetime as dt
import re
from typing import ClassVar

from engine.detectors.base import REJECT, Pattern, PatternDetector, Verdict

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januar janvier enero gennaio",
        "february feb februar février fevrier febrero febbraio",
        "march mar märz maerz marz mars marzo",
        "april apr avril abril aprile",
        "may mai mayo maggio",
        "june jun juni juin junio giugno",
        "july jul juli juillet julio luglio",
        "august aug août aout agosto",
        "september sep sept septembre septiembre setiembre settembre",
        "october oct oktober octobre octubre ottobre",
        "november nov novembre noviembre",
        "december dec dezember décembre decembre diciembre dicembre",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|\.|º)?"
_START = r"(?<![\w/.-])"
_END = r"(?![\w]|[-/.:]\d)"
_WORD = re.compile(r"[^\W\d_]+")


def _date(year: int, month: int, day: int) -> dt.date | None:
    if year < 100:
        year += 1900 if year > dt.date.today().year % 100 else 2000
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date if dt.date(1900, 1, 1) <= date <= dt.date.today() else None


class DateOfBirthDetector(PatternDetector):
    """Dates after a birth word, in ISO (1985-03-14), numeric (03/14/1985, 14.03.1985) and
    written (March 14, 1985; 14 March 1985; 14. März 1985) layouts; must be a real past date.
    Subtype: "iso", "mdy", "dmy" or "text"."""

    ENTITY = "DATE_OF_BIRTH"
    PATTERNS = (
        Pattern("iso", _START + r"\d{4}([-/.])\d{1,2}\1\d{1,2}" + _END, 0.8),
        Pattern("numeric", _START + r"\d{1,2}([-/.])\d{1,2}\1(?:\d{4}|\d{2})" + _END, 0.8),
        Pattern(
            "month_day_year",
            r"(?i)(?<!\w)" + _MONTH + r"[ ]" + _DAY + r",?[ ]\d{4}" + _END,
            0.8,
        ),
        Pattern(
            "day_month_year",
            r"(?i)"
            + _START
            + _DAY
            + r"[ ](?:of[ ]|de[ ])?"
            + _MONTH
            + r",?[ ](?:de[ ])?\d{4}"
            + _END,
            0.8,
        ),
    )
    CONTEXT = (
        "born", "birth", "birthday", "birthdate", "birth date", "date of birth", "dob", "d.o.b",
        "d.o.b.", "geboren", "geb", "geburtstag", "geburtsdatum", "né", "née", "naissance",
        "date de naissance", "nacido", "nacida", "fecha de nacimiento", "nato", "nata",
        "data di nascita", "nascita",
    )  # fmt: skip
    CONTEXT_REQUIRED = True
    CONTEXT_WHOLE_WORDS = True
    CONTEXT_WINDOW = 40
    MAX_LENGTH = 40
    _GAP_DIGIT: ClassVar[re.Pattern[str]] = re.compile(r"\d")

    def has_context(self, text: str, start: int, end: int) -> bool:
        """A birth word before the date, with no other number in between ("born 1985-03-14;
        joined 2020-01-01" marks only the first date)."""
        if self._context is None:
            return False
        window_start = max(0, start - self.CONTEXT_WINDOW)
        last = None
        for last in self._context.finditer(text, window_start, start):  # noqa: B007
            pass
        return last is not None and not self._GAP_DIGIT.search(text, last.end(), start)

    def validate(self, value: str) -> Verdict:
        digits = [int(d) for d in re.findall(r"\d+", value)]
        words = _WORD.findall(value.lower())
        month = next((_MONTHS[w] for w in words if w in _MONTHS), None)
        if month is not None:
            if len(digits) != 2:
                return REJECT
            day, year = (digits[0], digits[1]) if digits[1] > 31 else (digits[1], digits[0])
            return Verdict(True, True, "text") if _date(year, month, day) else REJECT
        if len(digits) != 3:
            return REJECT
        first, second, third = digits
        if value[:4].isdigit():
            return Verdict(True, True, "iso") if _date(first, second, third) else REJECT
        dotted = "." in value  # 14.03.1985 is day-first wherever it is written
        if not dotted and _date(third, first, second):
            return Verdict(True, True, "mdy")
        if _date(third, second, first):
            return Verdict(True, True, "dmy")
        return REJECT

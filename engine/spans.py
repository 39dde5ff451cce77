"""A detected piece of personal data, and the rule that resolves overlaps between detections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A detection: ``text[start:end]`` is personal data of ``type``.

    ``validated`` is True when a checksum or parser confirmed the value (Luhn, mod-97,
    phonenumbers, ipaddress, ...). ``subtype`` names the concrete format when a type has
    several (``"visa"``, ``"gb.nino"``, ``"ipv6"``): the double generator keeps that format.
    """

    start: int
    end: int
    type: str
    score: float
    validated: bool = False
    subtype: str | None = None
    detector: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"empty or negative span {self.start}..{self.end}")

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    @property
    def length(self) -> int:
        return self.end - self.start


def _rank(span: Span) -> tuple[bool, int, float, int, str]:
    """Higher ranks win an overlap: validated, then longer, then higher score.

    The last keys (earlier start, type name) only make the order total, so the outcome
    never depends on the order detectors ran in.
    """
    return (span.validated, span.length, span.score, -span.start, span.type)


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep a set of non-overlapping spans, sorted by start.

    Greedy by rank: each span is kept unless it overlaps one already kept. Deterministic
    for any input order, and masking never splices two replacements into each other.
    """
    kept: list[Span] = []
    for span in sorted(spans, key=_rank, reverse=True):
        if not any(span.overlaps(k) for k in kept):
            kept.append(span)
    kept.sort(key=lambda s: s.start)
    return kept

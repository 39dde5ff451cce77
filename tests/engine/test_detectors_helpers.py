"""Shared helpers for the detector tests (no tests here): run detectors, list what they found."""

from __future__ import annotations

from engine.detectors import default_detectors
from engine.detectors.base import Detector
from engine.spans import resolve_overlaps

_DEFAULT = default_detectors()


def found(detector: Detector, text: str) -> list[tuple[str, str | None]]:
    """(value, subtype) of every span ``detector`` reports in ``text``."""
    return [(text[s.start : s.end], s.subtype) for s in detector.detect(text)]


def values(detector: Detector, text: str) -> list[str]:
    return [value for value, _ in found(detector, text)]


def all_spans(text: str) -> list[tuple[str, str]]:
    """(type, value) of the resolved spans of all default detectors."""
    spans = resolve_overlaps(s for d in _DEFAULT for s in d.detect(text))
    return [(s.type, text[s.start : s.end]) for s in spans]

"""Doppel's engine: find personal data, swap it for consistent doubles, put it back.

A plain library: no gRPC, no asyncio. Start with :func:`build_engine`.
"""

from __future__ import annotations

import os

from engine.masking import Engine, MaskSession, key_from_env
from engine.policy import Policy
from engine.spans import Span

__all__ = ["Engine", "MaskSession", "Policy", "Span", "build_engine"]

MODEL_ENV = "DOPPEL_MODEL"


def build_engine(
    key: bytes | None = None,
    *,
    phone_region: str = "US",
    locale: str = "en_US",
    placeholder_types: frozenset[str] = frozenset(),
    cache_size: int = 4096,
    policy: Policy | None = None,
    model: bool | None = None,
    model_threads: int | None = None,
) -> Engine:
    """The default engine: every registered detector, doubles keyed by ``key`` (else
    ``$DOPPEL_KEY``, else a random per-process key with a warning); ``policy`` (else one that
    uses placeholders for ``placeholder_types`` and doubles for the rest).

    ``model``: add the NER model detector (names, addresses, companies, ...); default on unless
    ``$DOPPEL_MODEL`` is ``0``. ``model_threads``: its onnxruntime threads (default
    ``$DOPPEL_MODEL_THREADS``, else up to 2)."""
    from engine.detectors import default_detectors
    from engine.doubles import Pseudonymizer

    detectors = default_detectors(phone_region=phone_region)
    if model is None:
        model = os.environ.get(MODEL_ENV, "1").strip().lower() not in ("0", "false", "no", "off")
    if model:
        from engine.detectors.model import ModelDetector

        detectors.append(ModelDetector(threads=model_threads))
    return Engine(
        detectors=detectors,
        pseudonymizer=Pseudonymizer(key if key is not None else key_from_env(), locale=locale),
        policy=policy or Policy.placeholders(placeholder_types),
        cache_size=cache_size,
    )

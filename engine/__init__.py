"""Doppel's engine: find personal data, swap it for consistent doubles, put it back.

A plain library: no gRPC, no asyncio. Start with :func:`build_engine`.
"""

from __future__ import annotations

from engine.masking import Engine, MaskSession, key_from_env
from engine.policy import Policy
from engine.spans import Span

__all__ = ["Engine", "MaskSession", "Policy", "Span", "build_engine"]


def build_engine(
    key: bytes | None = None,
    *,
    phone_region: str = "US",
    locale: str = "en_US",
    placeholder_types: frozenset[str] = frozenset(),
    cache_size: int = 4096,
    policy: Policy | None = None,
) -> Engine:
    """The default engine: every registered detector, doubles keyed by ``key`` (else
    ``$DOPPEL_KEY``, else a random per-process key with a warning); ``policy`` (else one that
    uses placeholders for ``placeholder_types`` and doubles for the rest)."""
    from engine.detectors import default_detectors
    from engine.doubles import Pseudonymizer

    return Engine(
        detectors=default_detectors(phone_region=phone_region),
        pseudonymizer=Pseudonymizer(key if key is not None else key_from_env(), locale=locale),
        policy=policy or Policy.placeholders(placeholder_types),
        cache_size=cache_size,
    )

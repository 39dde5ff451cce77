"""Undo content-encoding on answers, so no double hides in compressed bytes.

Doppel asks providers for ``accept-encoding: identity``; this is for those that compress anyway.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class UnsupportedEncoding(ValueError):
    pass


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)

    def decode(self, data: bytes) -> bytes:
        return self._d.decompress(data)

    def flush(self) -> bytes:
        return self._d.flush()


class _Deflate:
    """``deflate`` is zlib-wrapped per the RFC, raw in some servers: accept both."""

    def __init__(self) -> None:
        self._d: _Zlib | None = None

    def decode(self, data: bytes) -> bytes:
        if self._d is None:
            if not data:
                return b""
            self._d = _Zlib(zlib.MAX_WBITS if (data[0] & 0x0F) == 8 else -zlib.MAX_WBITS)
        return self._d.decode(data)

    def flush(self) -> bytes:
        return self._d.flush() if self._d else b""


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        return self._d.process(data) if data else b""

    def flush(self) -> bytes:
        return b""


def decoder_for(content_encoding: str) -> Decoder | None:
    """A streaming decoder for a ``content-encoding`` value; None for identity."""
    encodings = [e.strip().lower() for e in content_encoding.split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if not encodings:
        return None
    if len(encodings) > 1:
        raise UnsupportedEncoding("stacked content-encodings")
    match encodings[0]:
        case "gzip" | "x-gzip":
            return _Zlib(16 + zlib.MAX_WBITS)
        case "deflate":
            return _Deflate()
        case "br":
            return _Brotli()
    raise UnsupportedEncoding(f"content-encoding {encodings[0]!r}")

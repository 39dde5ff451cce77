"""Doppel's own gRPC API, ``doppel.v1.Privacy`` (proto/doppel/v1/privacy.proto), for callers
that are not Envoy: Detect, Mask, Restore and a bidirectional RestoreStream.

The server stays stateless: Mask hands the caller a **session token** that carries the
double -> original pairs of that call, encrypted and authenticated with AES-256-GCM under a key
derived from the server's secret (:class:`SessionTokens`). Any replica with the same secret
restores any token; nothing is stored. Detection and masking run off the event loop; error
messages name limits and types, never a text or a value.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import grpc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.catalog import restore_match
from engine.masking import Engine, MaskSession
from engine.policy import Blocked
from engine.restore import Replacement, Restorer
from extproc.doppel_pb import privacy_pb2 as pb
from extproc.doppel_pb import privacy_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Privacy"].full_name  # "doppel.v1.Privacy"
# A stream chunk this small is restored on the event loop (microseconds); larger ones are not.
INLINE_CHARS = 16 * 1024

T = TypeVar("T")


class Refused(Exception):
    """A call refused with a gRPC status; ``message`` is safe to show (no text, no value)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- session tokens -------------------------------------------------------------------------

TOKEN_VERSION = 1
_AAD = b"doppel.v1.Privacy session token"
_SALT, _NONCE, _TAG = 16, 12, 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Pair:
    """One double of a session, the original it stands for and its entity type."""

    double: str
    original: str
    type: str


class SessionTokens:
    """Seals a session's pairs into an opaque token and opens it again.

    ``token = base64url(version ‖ salt ‖ nonce ‖ AES-256-GCM(key_salt, nonce, payload))`` with
    ``key_salt = HMAC-SHA256(HMAC-SHA256(secret, label), salt)``: every token has its own key
    (a random 128-bit salt), so GCM's limit on random nonces per key never comes near. The GCM
    tag authenticates the version and the payload; a token made under another secret, or
    changed in any bit, does not open. The payload is JSON ``{"iat": seconds, "p": [[double,
    original, type], ...]}``, never compressed (compression would let length say something
    about the content).
    """

    def __init__(self, secret: bytes, *, max_chars: int = 64 * 1024, ttl_s: float = 86400) -> None:
        if not secret:
            raise ValueError("the session token secret must not be empty")
        self._root = hmac.new(secret, b"doppel.v1 session token key", hashlib.sha256).digest()
        self.max_chars = max_chars
        self.ttl_s = ttl_s

    def _aead(self, salt: bytes) -> AESGCM:
        return AESGCM(hmac.new(self._root, salt, hashlib.sha256).digest())

    def seal(self, pairs: Iterable[Pair], now: float | None = None) -> str:
        payload = {
            "iat": int(time.time() if now is None else now),
            "p": [[p.double, p.original, p.type] for p in pairs],
        }
        plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        # base64 makes 4 characters of every 3 bytes; refuse before encrypting a huge payload
        size = _token_chars(1 + _SALT + _NONCE + len(plain) + _TAG)
        if size > self.max_chars:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the texts hold too many distinct values for one session token ({size} "
                f"characters; limit {self.max_chars}): mask them in smaller batches",
            )
        salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
        version = bytes([TOKEN_VERSION])
        sealed = self._aead(salt).encrypt(nonce, plain, _AAD + version)
        return base64.urlsafe_b64encode(version + salt + nonce + sealed).rstrip(b"=").decode()

    def open(self, token: str, now: float | None = None) -> list[Pair]:
        if not token:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "a session token is required")
        if len(token) > self.max_chars:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"session token is {len(token)} characters; limit {self.max_chars}",
            )
        if not _TOKEN_CHARS.fullmatch(token):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "session token is malformed")
        try:
            blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "session token is malformed") from None
        if len(blob) < 1 + _SALT + _NONCE + _TAG:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "session token is malformed")
        if blob[0] != TOKEN_VERSION:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "session token has an unknown version")
        salt, nonce = blob[1 : 1 + _SALT], blob[1 + _SALT : 1 + _SALT + _NONCE]
        try:
            plain = self._aead(salt).decrypt(nonce, blob[1 + _SALT + _NONCE :], _AAD + blob[:1])
        except InvalidTag:
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                "session token was not issued by this deployment (wrong key or altered)",
            ) from None
        payload = json.loads(plain)
        age = (time.time() if now is None else now) - payload["iat"]
        if self.ttl_s > 0 and age > self.ttl_s:
            raise Refused(grpc.StatusCode.PERMISSION_DENIED, "session token has expired")
        return [Pair(d, o, t) for d, o, t in payload["p"]]


def _token_chars(n_bytes: int) -> int:
    return (4 * n_bytes + 2) // 3


def session_pairs(session: MaskSession) -> list[Pair]:
    """Every double a session handed out, with its original and type."""
    return [Pair(d, o, t) for d, (t, o) in session.export_pairs().items()]


def restorer_for(pairs: Sequence[Pair]) -> Restorer:
    """The restorer ``MaskSession.restorer()`` would have built for these pairs."""
    return Restorer([Replacement(p.double, p.original, restore_match(p.type)) for p in pairs])


# --- the servicer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What one call may carry. Over a limit the call is refused with INVALID_ARGUMENT."""

    max_texts: int = 1024
    max_chars: int = 1 << 20  # all texts of one request (or one stream chunk), in code points
    max_token_chars: int = 64 * 1024
    token_ttl_s: float = 86400  # 0: tokens never expire


class PrivacyServicer(pb_grpc.PrivacyServicer):
    """``doppel.v1.Privacy`` over the engine ``get_engine()`` returns at the start of each call
    (so a reload applies to new calls). ``secret`` keys the session tokens: give every replica
    the same one. ``executor``: where detection, masking and restoring run (default: the loop's
    default executor)."""

    def __init__(
        self,
        get_engine: Callable[[], Engine],
        secret: bytes,
        *,
        limits: Limits | None = None,
        executor: Executor | None = None,
    ) -> None:
        self._get_engine = get_engine
        self._limits = limits = limits or Limits()
        self._tokens = SessionTokens(
            secret, max_chars=limits.max_token_chars, ttl_s=limits.token_ttl_s
        )
        self._executor = executor

    async def Detect(
        self, request: pb.DetectRequest, context: grpc.aio.ServicerContext
    ) -> pb.DetectResponse:
        texts = await self._checked(context, request.texts)
        return await self._offload(context, "Detect", _detect, self._get_engine(), texts)

    async def Mask(
        self, request: pb.MaskRequest, context: grpc.aio.ServicerContext
    ) -> pb.MaskResponse:
        texts = await self._checked(context, request.texts)
        return await self._offload(context, "Mask", _mask, self._get_engine(), self._tokens, texts)

    async def Restore(
        self, request: pb.RestoreRequest, context: grpc.aio.ServicerContext
    ) -> pb.RestoreResponse:
        texts = await self._checked(context, request.texts)
        return await self._offload(
            context, "Restore", _restore, self._tokens, request.session, texts
        )

    async def RestoreStream(
        self,
        request_iterator: AsyncIterator[pb.RestoreStreamRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.RestoreStreamResponse]:
        stream = None
        async for request in request_iterator:
            if stream is None:
                if not request.session:
                    await _abort(
                        context,
                        Refused(
                            grpc.StatusCode.INVALID_ARGUMENT,
                            "the first RestoreStream message must carry the session token",
                        ),
                    )
                restorer = await self._offload(
                    context, "RestoreStream", _open, self._tokens, request.session
                )
                stream = restorer.stream()
            if len(request.text) > self._limits.max_chars:
                await _abort(context, self._too_long(len(request.text)))
            if len(request.text) <= INLINE_CHARS:
                text = stream.feed(request.text)
            else:
                text = await self._offload(context, "RestoreStream", stream.feed, request.text)
            if request.final:
                yield pb.RestoreStreamResponse(text=text + stream.flush())
                return
            yield pb.RestoreStreamResponse(text=text)
        if stream is not None:
            tail = stream.flush()
            if tail:
                yield pb.RestoreStreamResponse(text=tail)

    async def _checked(self, context: grpc.aio.ServicerContext, texts: Sequence[str]) -> list[str]:
        limits = self._limits
        if len(texts) > limits.max_texts:
            await _abort(
                context,
                Refused(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"{len(texts)} texts in one request; limit {limits.max_texts}",
                ),
            )
        total = sum(len(t) for t in texts)
        if total > limits.max_chars:
            await _abort(context, self._too_long(total))
        return list(texts)

    def _too_long(self, chars: int) -> Refused:
        return Refused(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{chars} characters of text in one message; limit {self._limits.max_chars}",
        )

    async def _offload(
        self,
        context: grpc.aio.ServicerContext,
        rpc: str,
        fn: Callable[..., T],
        *args: object,
    ) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except Refused as exc:
            await _abort(context, exc)
        except Blocked as exc:
            await _abort(
                context,
                Refused(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"the policy blocks sending {', '.join(sorted(exc.types))}; nothing was masked",
                ),
            )
        except Exception as exc:
            # the exception text may quote the input: log and answer with its type only
            log.error("direct API call failed", extra={"rpc": rpc, "error": type(exc).__name__})
            await _abort(context, Refused(grpc.StatusCode.INTERNAL, f"{rpc} failed"))


async def _abort(context: grpc.aio.ServicerContext, refused: Refused) -> NoReturn:
    await context.abort(refused.code, refused.message)
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def _detect(engine: Engine, texts: list[str]) -> pb.DetectResponse:
    return pb.DetectResponse(
        results=[
            pb.Detection(
                entities=[
                    pb.Entity(start=s.start, end=s.end, type=s.type, score=s.score)
                    for s in engine.detect(text)
                ]
            )
            for text in texts
        ]
    )


def _mask(engine: Engine, tokens: SessionTokens, texts: list[str]) -> pb.MaskResponse:
    session = engine.session()
    masked = session.mask_many(texts)
    token = tokens.seal(session_pairs(session))
    return pb.MaskResponse(texts=masked, counts=dict(session.counts), session=token)


def _open(tokens: SessionTokens, token: str) -> Restorer:
    return restorer_for(tokens.open(token))


def _restore(tokens: SessionTokens, token: str, texts: list[str]) -> pb.RestoreResponse:
    restorer = _open(tokens, token)
    return pb.RestoreResponse(texts=[restorer.restore(t) for t in texts])


def add_to_server(server: grpc.aio.Server, servicer: PrivacyServicer) -> None:
    """Serve ``doppel.v1.Privacy`` on ``server`` (add :data:`SERVICE_NAME` to reflection)."""
    pb_grpc.add_PrivacyServicer_to_server(servicer, server)


# --- client side, for the CLI ---------------------------------------------------------------


def connect(target: str, ca_file: str | None = None) -> grpc.Channel:
    """A blocking channel to a remote server: TLS when ``ca_file`` is given, else plaintext."""
    if ca_file:
        with open(ca_file, "rb") as f:
            return grpc.secure_channel(target, grpc.ssl_channel_credentials(f.read()))
    return grpc.insecure_channel(target)


def remote_mask(ch: grpc.Channel, text: str, timeout: float = 30) -> tuple[str, str]:
    """Mask ``text`` on the remote server: (masked text, session token)."""
    reply = pb_grpc.PrivacyStub(ch).Mask(pb.MaskRequest(texts=[text]), timeout=timeout)
    return reply.texts[0], reply.session


def remote_restore(ch: grpc.Channel, token: str, chunks: Iterable[str]) -> Iterator[str]:
    """Restore a text arriving in ``chunks`` through RestoreStream; yields restored text."""

    def requests() -> Iterator[pb.RestoreStreamRequest]:
        yield pb.RestoreStreamRequest(session=token)
        for chunk in chunks:
            yield pb.RestoreStreamRequest(text=chunk)
        yield pb.RestoreStreamRequest(final=True)

    for reply in pb_grpc.PrivacyStub(ch).RestoreStream(requests()):
        if reply.text:
            yield reply.text

"""One HTTP exchange as Envoy's ext_proc stream presents it: a sans-IO state machine.

ext_proc messages in, ext_proc messages out; no gRPC, no sockets, no asyncio. The servicer
(``extproc.server``) is a thin loop around :meth:`Exchange.handle`. The phases, in the order
Envoy sends them::

    REQUEST_HEADERS ─▶ REQUEST_BODY ─▶ RESPONSE_HEADERS ─▶ RESPONSE_BODY ─▶ DONE
          └────────(no body)───────────▲          └──(no body)──────────────▲

Everything that goes wrong on the way out is fail-closed: the answer is an
``ImmediateResponse`` with a JSON error, and the request never reaches the provider.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from enum import Enum

from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.type.v3 import http_status_pb2

from engine.codecs import Codec, JSONTextError, codec_for
from engine.masking import Engine, MaskSession
from engine.restore import Restorer

log = logging.getLogger(__name__)


class Phase(Enum):
    REQUEST_HEADERS = "request_headers"
    REQUEST_BODY = "request_body"
    RESPONSE_HEADERS = "response_headers"
    RESPONSE_BODY = "response_body"
    DONE = "done"


# What each phase may receive, and the phase that follows.
_ALLOWED: dict[Phase, frozenset[str]] = {
    Phase.REQUEST_HEADERS: frozenset({"request_headers"}),
    Phase.REQUEST_BODY: frozenset({"request_body", "request_trailers", "response_headers"}),
    Phase.RESPONSE_HEADERS: frozenset({"response_headers", "request_trailers"}),
    Phase.RESPONSE_BODY: frozenset({"response_body", "response_trailers"}),
    Phase.DONE: frozenset({"response_trailers"}),
}


class ProtocolError(Exception):
    """Envoy sent a message this exchange cannot take in its current phase."""


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int = 8 * 1024 * 1024
    max_response_bytes: int = 32 * 1024 * 1024


@dataclass
class Exchange:
    """State of one exchange; feed it every ``ProcessingRequest`` of the stream in order."""

    engine: Engine
    limits: Limits = field(default_factory=Limits)
    phase: Phase = Phase.REQUEST_HEADERS
    path: str = ""
    codec: Codec | None = None
    session: MaskSession | None = None
    _restorer: Restorer | None = None

    def handle(self, request: pb.ProcessingRequest) -> pb.ProcessingResponse:
        kind = request.WhichOneof("request")
        if kind is None or kind not in _ALLOWED[self.phase]:
            raise ProtocolError(f"{kind} not expected in phase {self.phase.value}")
        return getattr(self, "_on_" + kind)(getattr(request, kind))

    # -- request ---------------------------------------------------------------------------

    def _on_request_headers(self, msg: pb.HttpHeaders) -> pb.ProcessingResponse:
        headers = _header_dict(msg.headers)
        self.path = headers.get(":path", "/")
        self.codec = codec_for(self.path)
        self.session = self.engine.session()
        self.phase = Phase.RESPONSE_HEADERS if msg.end_of_stream else Phase.REQUEST_BODY
        if headers.get("content-encoding", "identity").lower() != "identity":
            return error_response(
                415,
                "unsupported_encoding",
                "Doppel cannot inspect a compressed request body; send it uncompressed",
            )
        # Ask the provider for an uncompressed answer: a double inside compressed bytes could
        # not be restored.
        mutation = pb.HeaderMutation(set_headers=[_header("accept-encoding", "identity")])
        return pb.ProcessingResponse(
            request_headers=pb.HeadersResponse(response=pb.CommonResponse(header_mutation=mutation))
        )

    def _on_request_body(self, msg: pb.HttpBody) -> pb.ProcessingResponse:
        assert self.codec is not None and self.session is not None
        if len(msg.body) > self.limits.max_request_bytes:
            return error_response(
                413,
                "request_too_large",
                f"request body is over {self.limits.max_request_bytes} bytes",
            )
        if not msg.end_of_stream:
            # BUFFERED mode always delivers the whole body in one message.
            return error_response(
                500,
                "unexpected_body_chunk",
                "request body arrived in parts; Doppel needs it buffered",
            )
        self.phase = Phase.RESPONSE_HEADERS
        try:
            masked = self.codec.mask_request(msg.body, self.session)
        except JSONTextError as exc:
            return error_response(400, "invalid_json", f"request body is not valid JSON: {exc}")
        except Exception:
            log.exception("masking failed; request blocked")
            return error_response(
                500, "masking_failed", "Doppel could not mask this request, so it was not sent"
            )
        log.info("request masked codec=%s entities=%s", self.codec.name, dict(self.session.counts))
        return pb.ProcessingResponse(request_body=_body_response(masked, masked != msg.body))

    def _on_request_trailers(self, msg: pb.HttpTrailers) -> pb.ProcessingResponse:
        return pb.ProcessingResponse(request_trailers=pb.TrailersResponse())

    # -- response --------------------------------------------------------------------------

    def _on_response_headers(self, msg: pb.HttpHeaders) -> pb.ProcessingResponse:
        self.phase = Phase.DONE if msg.end_of_stream else Phase.RESPONSE_BODY
        return pb.ProcessingResponse(response_headers=pb.HeadersResponse())

    def _on_response_body(self, msg: pb.HttpBody) -> pb.ProcessingResponse:
        assert self.codec is not None and self.session is not None
        if msg.end_of_stream:
            self.phase = Phase.DONE
        if self._restorer is None:
            self._restorer = self.session.restorer()
        try:
            restored = self.codec.restore_response(msg.body, self._restorer)
        except JSONTextError:
            # Not the JSON the API promised (an error page, say): restore it as text.
            restored = self._restorer.restore(msg.body.decode("utf-8", "replace")).encode()
        return pb.ProcessingResponse(response_body=_body_response(restored, restored != msg.body))

    def _on_response_trailers(self, msg: pb.HttpTrailers) -> pb.ProcessingResponse:
        return pb.ProcessingResponse(response_trailers=pb.TrailersResponse())


def _header_dict(headers: base_pb2.HeaderMap) -> dict[str, str]:
    return {
        h.key.lower(): h.raw_value.decode("latin-1") if h.raw_value else h.value
        for h in headers.headers
    }


def _header(key: str, value: str) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=key, raw_value=value.encode("latin-1")),
        append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD,
    )


def _body_response(body: bytes, changed: bool) -> pb.BodyResponse:
    if not changed:
        return pb.BodyResponse()
    # A body of another length needs a content-length that says so, or Envoy answers 500.
    return pb.BodyResponse(
        response=pb.CommonResponse(
            header_mutation=pb.HeaderMutation(
                set_headers=[_header("content-length", str(len(body)))]
            ),
            body_mutation=pb.BodyMutation(body=body),
        )
    )


def error_response(status: int, code: str, message: str) -> pb.ProcessingResponse:
    """Stop the exchange here and answer the client with a JSON error (OpenAI's error shape,
    which the major SDKs surface as the exception message)."""
    body = json.dumps(
        {"error": {"type": "doppel_error", "code": code, "message": f"Doppel: {message}"}}
    ).encode()
    return pb.ProcessingResponse(
        immediate_response=pb.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=status),
            headers=pb.HeaderMutation(
                set_headers=[
                    _header("content-type", "application/json"),
                    _header("x-doppel-error", code),
                ]
            ),
            body=body,
            details=f"doppel_{code}",
        )
    )

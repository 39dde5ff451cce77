"""One HTTP exchange as Envoy's ext_proc stream presents it: a sans-IO state machine.

ext_proc messages in, ext_proc messages out; no gRPC, no sockets, no asyncio. The servicer
(``extproc.server``) is a thin loop around :meth:`Exchange.handle`. The phases, in the order
Envoy sends them::

    REQUEST_HEADERS ─▶ REQUEST_BODY ─▶ RESPONSE_HEADERS ─▶ RESPONSE_BODY ─▶ DONE
          └────────(no body)───────────▲          └──(no body)──────────────▲

Request bodies arrive BUFFERED (whole). JSON answers stay BUFFERED; a ``text/event-stream``
answer is switched to STREAMED with ``mode_override`` and restored event by event. Everything
that goes wrong on the way out is fail-closed: the answer is an ``ImmediateResponse`` with a
JSON error, and the request never reaches the provider.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from envoy.config.core.v3 import base_pb2
from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.type.v3 import http_status_pb2

from engine.codecs import (
    GENERIC,
    OPENAI_RESPONSES,
    Codec,
    JSONTextError,
    SSEStream,
    codec_for,
)
from engine.masking import Engine, MaskSession
from engine.policy import Blocked, Mode, Policy
from engine.restore import Restorer
from engine.vault import Vault, VaultError
from extproc.encoding import Decoder, UnsupportedEncoding, decoder_for

log = logging.getLogger(__name__)

STREAMED = processing_mode_pb2.ProcessingMode.STREAMED
NO_BODY = processing_mode_pb2.ProcessingMode.NONE


class Phase(Enum):
    REQUEST_HEADERS = "request_headers"
    REQUEST_BODY = "request_body"
    RESPONSE_HEADERS = "response_headers"
    RESPONSE_BODY = "response_body"
    DONE = "done"


# What each phase may receive. Envoy may send the response before the request body is done
# (an upstream that answers early), and trailers of either side when they exist.
_ALLOWED: dict[Phase, frozenset[str]] = {
    Phase.REQUEST_HEADERS: frozenset({"request_headers"}),
    Phase.REQUEST_BODY: frozenset({"request_body", "request_trailers", "response_headers"}),
    Phase.RESPONSE_HEADERS: frozenset({"response_headers", "request_trailers"}),
    Phase.RESPONSE_BODY: frozenset({"response_body", "response_trailers"}),
    Phase.DONE: frozenset({"response_trailers"}),
}


class ProtocolError(Exception):
    """Envoy sent a message this exchange cannot take in its current phase."""


class InvalidJSON(Enum):
    MASK_AS_TEXT = "mask_as_text"  # a JSON API whose body does not parse: mask it as text
    REJECT = "reject"  # ... or answer 400 and send nothing


@dataclass(frozen=True)
class ExchangeConfig:
    max_request_bytes: int = 4 * 1024 * 1024
    invalid_json: InvalidJSON = InvalidJSON.MASK_AS_TEXT
    # Named policies; an exchange without a chosen one uses the engine's own.
    policies: Mapping[str, Policy] = field(default_factory=dict)
    # Client-sent x-doppel-policy / x-doppel-tenant headers count only when trusted (a gateway
    # that sets them itself); route settings from Envoy always count.
    trust_headers: bool = False
    # Doubles that come back in a later exchange (previous_response_id); None: not kept.
    vault: Vault | None = None


_RESPONSE_ID = re.compile(rb'"id"\s*:\s*"(resp_[A-Za-z0-9_-]{1,200})"')
_ID_PROBE_BYTES = 16 * 1024

SELECTOR_NAMESPACE = "doppel"  # metadata_context filter namespace carrying policy / tenant
POLICY_KEY, TENANT_KEY = "policy", "tenant"


@dataclass
class Exchange:
    """State of one exchange; feed it every ``ProcessingRequest`` of the stream in order."""

    engine: Engine
    config: ExchangeConfig = field(default_factory=ExchangeConfig)
    phase: Phase = Phase.REQUEST_HEADERS
    codec: Codec = GENERIC
    session: MaskSession | None = None
    content_type: str = ""
    request_id: str = ""
    route: Mapping[str, str] = field(default_factory=dict)  # policy/tenant Envoy set per route
    tenant: str = ""
    # masked | unchanged | monitored | no_body | blocked:<code> (for metrics and logs)
    outcome: str = "open"
    restore_failures: int = 0
    vault_errors: int = 0
    _response_ref: str = ""
    _id_probe: bytes = b""
    _restorer: Restorer | None = None
    _stream: SSEStream | None = None
    _decoder: Decoder | None = None
    _response_codec: Codec = GENERIC

    def handle(self, request: pb.ProcessingRequest) -> pb.ProcessingResponse:
        kind = request.WhichOneof("request")
        if kind is None or kind not in _ALLOWED[self.phase]:
            raise ProtocolError(f"{kind} not expected in phase {self.phase.value}")
        if kind == "request_headers" and request.HasField("metadata_context"):
            fields = request.metadata_context.filter_metadata.get(SELECTOR_NAMESPACE)
            if fields is not None:
                self.route = {**{k: str(v) for k, v in fields.items()}, **self.route}
        return getattr(self, "_on_" + kind)(getattr(request, kind))

    @property
    def restorer(self) -> Restorer:
        if self._restorer is None:
            self._restorer = (self.session or self.engine.session()).restorer()
        return self._restorer

    @property
    def needs_restorer(self) -> bool:
        """True when the exchange has doubles and their restorer is not built yet."""
        return (
            self._restorer is None and self.session is not None and bool(self.session.replacements)
        )

    def prepare_restorer(self) -> None:
        """Build the restorer now (on a worker, while the provider answers). A failure here is
        not raised: the answer's phase builds it again and fails closed there, with the
        exchange's error handling."""
        try:
            _ = self.restorer
        except Exception:
            self._restorer = None

    # -- request ---------------------------------------------------------------------------

    def _on_request_headers(self, msg: pb.HttpHeaders) -> pb.ProcessingResponse:
        headers = header_dict(msg.headers)
        self.request_id = headers.get("x-request-id", "")[:128]
        self.codec = codec_for(headers.get(":path", "/"))
        self.content_type = _media_type(headers.get("content-type", ""))
        self.phase = Phase.RESPONSE_HEADERS if msg.end_of_stream else Phase.REQUEST_BODY
        name = self._selector(POLICY_KEY, headers)
        self.tenant = self._selector(TENANT_KEY, headers)[:128]
        if name and name not in self.config.policies:
            self.session = self.engine.session(tenant=self.tenant)
            return self.refuse(
                500,
                "unknown_policy",
                f"policy {name!r} is not configured, so the request was not sent",
            )
        policy = self.config.policies.get(name) if name else None
        self.session = self.engine.session(policy, self.tenant)
        if msg.end_of_stream:
            self.outcome = "no_body"
        if headers.get("content-encoding", "identity").lower() != "identity":
            return self.refuse(
                415,
                "unsupported_encoding",
                "a compressed request body cannot be inspected; send it uncompressed",
            )
        # Ask for an uncompressed answer: a double inside compressed bytes cannot be restored.
        mutation = pb.HeaderMutation(set_headers=[header("accept-encoding", "identity")])
        return pb.ProcessingResponse(
            request_headers=pb.HeadersResponse(response=pb.CommonResponse(header_mutation=mutation))
        )

    def _selector(self, key: str, headers: Mapping[str, str]) -> str:
        """Policy or tenant: the route's (Envoy), else a trusted header, else none."""
        if value := self.route.get(key):
            return value
        if self.config.trust_headers:
            return headers.get(f"x-doppel-{key}", "")
        return ""

    def _on_request_body(self, msg: pb.HttpBody) -> pb.ProcessingResponse:
        assert self.session is not None
        if len(msg.body) > self.config.max_request_bytes:
            return self.refuse(
                413,
                "request_too_large",
                f"request body is over {self.config.max_request_bytes} bytes",
            )
        if not msg.end_of_stream:
            return self.refuse(
                500,
                "unexpected_body_chunk",
                "request body arrived in parts; Doppel needs it buffered",
            )
        self.phase = Phase.RESPONSE_HEADERS
        if not msg.body:
            self.outcome = "no_body"
            return pb.ProcessingResponse(request_body=pb.BodyResponse())
        self._continue_from_vault(msg.body)
        try:
            masked = self._mask(msg.body)
        except _Refused as refusal:
            return self.refuse(*refusal.args)
        except Blocked as blocked:
            return self.refuse(
                403,
                "blocked_by_policy",
                f"the request contains {blocked}, which policy does not allow to leave",
            )
        except Exception as exc:
            log.error("masking failed; request blocked", extra={"error": type(exc).__name__})
            return self.refuse(
                500, "masking_failed", "could not mask this request, so it was not sent"
            )
        if self.session.policy.mode is Mode.MONITOR:
            self.outcome = "monitored"
        else:
            self.outcome = "masked" if masked != msg.body else "unchanged"
        return pb.ProcessingResponse(request_body=body_response(masked, masked != msg.body))

    def _mask(self, body: bytes) -> bytes:
        assert self.session is not None
        kind = self.content_type
        if kind.startswith("text/"):
            return self.session.mask(_utf8(body)).encode()
        if kind and kind != "application/json" and not kind.endswith("+json"):
            raise _Refused(
                415,
                "unsupported_media_type",
                f"cannot inspect a {kind} body for personal data, so it was not sent",
            )
        try:
            return self.codec.mask_request(body, self.session)
        except JSONTextError as exc:
            if self.config.invalid_json is InvalidJSON.MASK_AS_TEXT:
                return self.session.mask(_utf8(body)).encode()
            raise _Refused(400, "invalid_json", f"request body is not valid JSON: {exc}") from None

    # -- the vault: stateful APIs whose answers repeat doubles of earlier exchanges ---------

    def _continue_from_vault(self, body: bytes) -> None:
        if self.config.vault is None or self.codec is not OPENAI_RESPONSES:
            return
        if b"previous_response_id" not in body:
            return
        try:
            ref = json.loads(body).get("previous_response_id")
        except (ValueError, AttributeError):
            return
        if not isinstance(ref, str) or not ref:
            return
        assert self.session is not None
        try:
            pairs = self.config.vault.load(self.tenant, ref)
        except VaultError as exc:
            self.vault_errors += 1
            log.warning(
                "vault read failed; restoring from this exchange only",
                extra={"error": str(exc), "request_id": self.request_id},
            )
            return
        if pairs:
            self.session.import_pairs(pairs)

    def _keep_in_vault(self, data: bytes) -> None:
        """Save this exchange's doubles under the provider's response id, once it is seen."""
        if self.config.vault is None or self.codec is not OPENAI_RESPONSES or self._response_ref:
            return
        if self.session is None or not self.session.replacements:
            return
        self._id_probe = (self._id_probe + data)[:_ID_PROBE_BYTES]
        m = _RESPONSE_ID.search(self._id_probe)
        if m is None:
            return
        self._response_ref = m.group(1).decode()
        try:
            self.config.vault.save(self.tenant, self._response_ref, self.session.export_pairs())
        except VaultError as exc:
            self.vault_errors += 1
            log.warning(
                "vault write failed", extra={"error": str(exc), "request_id": self.request_id}
            )

    def _on_request_trailers(self, msg: pb.HttpTrailers) -> pb.ProcessingResponse:
        return pb.ProcessingResponse(request_trailers=pb.TrailersResponse())

    # -- response --------------------------------------------------------------------------

    def _on_response_headers(self, msg: pb.HttpHeaders) -> pb.ProcessingResponse:
        headers = header_dict(msg.headers)
        self.phase = Phase.DONE if msg.end_of_stream else Phase.RESPONSE_BODY
        status = headers.get(":status", "200")
        # Error bodies echo input in shapes of their own: restore every string in them.
        self._response_codec = self.codec if status.startswith("2") else GENERIC
        mutation = pb.HeaderMutation()
        try:
            self._decoder = decoder_for(headers.get("content-encoding", ""))
        except UnsupportedEncoding as exc:
            return self.refuse(
                502,
                "unsupported_encoding",
                f"the provider answered with {exc}, which Doppel cannot decode to restore it",
            )
        if self._decoder is not None:
            mutation.remove_headers.extend(["content-encoding", "content-length"])
        if self.session is not None and self.session.policy.report_header:
            counts = ",".join(f"{t}={n}" for t, n in sorted(self.session.counts.items()))
            mutation.set_headers.append(header("x-doppel-entities", counts or "none"))
        response = pb.ProcessingResponse()
        if self._response_codec.response_fields == () and self._decoder is None:
            # Nothing to restore (embeddings: numbers): let the answer through unbuffered, so a
            # large batch is neither held nor cut by the buffer limit.
            response.mode_override.response_body_mode = NO_BODY
            self.phase = Phase.DONE
        elif _media_type(headers.get("content-type", "")) == "text/event-stream":
            self._stream = self._response_codec.stream(self.restorer)
            response.mode_override.response_body_mode = STREAMED
            if "content-length" not in mutation.remove_headers:
                mutation.remove_headers.append("content-length")
        response.response_headers.response.header_mutation.CopyFrom(mutation)
        return response

    def _on_response_body(self, msg: pb.HttpBody) -> pb.ProcessingResponse:
        end = msg.end_of_stream
        if end:
            self.phase = Phase.DONE
        try:
            return self._restore(msg.body, end)
        except Exception as exc:
            # Nothing can leak on the way back; a broken restore must not break the answer.
            # The client gets what the provider sent (with doubles); a metric counts it.
            self.restore_failures += 1
            log.error(
                "restore failed; answer passed on as received",
                extra={"error": type(exc).__name__, "request_id": self.request_id},
            )
            return pb.ProcessingResponse(response_body=pb.BodyResponse())

    def _restore(self, data: bytes, end: bool) -> pb.ProcessingResponse:
        original = data
        if self._decoder is not None:
            data = self._decoder.decode(data) + (self._decoder.flush() if end else b"")
        self._keep_in_vault(data)
        if self._stream is not None:
            out = self._stream.feed(data) + (self._stream.finish() if end else b"")
            return pb.ProcessingResponse(
                response_body=pb.BodyResponse(
                    response=pb.CommonResponse(body_mutation=pb.BodyMutation(body=out))
                )
            )
        try:
            restored = self._response_codec.restore_response(data, self.restorer)
        except JSONTextError:
            # Not the JSON the API promised (an HTML error page, say): restore it as text.
            restored = self.restorer.restore(data.decode("utf-8", "replace")).encode()
        changed = restored != original
        return pb.ProcessingResponse(response_body=body_response(restored, changed))

    def _on_response_trailers(self, msg: pb.HttpTrailers) -> pb.ProcessingResponse:
        return pb.ProcessingResponse(response_trailers=pb.TrailersResponse())

    def refuse(
        self, status: int, code: str, message: str, retry_after: int | None = None
    ) -> pb.ProcessingResponse:
        """End the exchange with a JSON error to the client; on the way out nothing is sent."""
        self.outcome = f"blocked:{code}"
        self.phase = Phase.DONE
        return error_response(status, code, message, retry_after)


class _Refused(Exception):
    """Raised inside masking; args are those of :meth:`Exchange.refuse`."""


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "invalid_body", "request body is neither JSON nor UTF-8 text") from None


def header_dict(headers: base_pb2.HeaderMap) -> dict[str, str]:
    return {
        h.key.lower(): h.raw_value.decode("latin-1") if h.raw_value else h.value
        for h in headers.headers
    }


def header(key: str, value: str) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=key, raw_value=value.encode("latin-1")),
        append_action=base_pb2.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD,
    )


def body_response(body: bytes, changed: bool) -> pb.BodyResponse:
    """A buffered body reply. A body of another length needs a content-length that says so, or
    Envoy answers 500."""
    if not changed:
        return pb.BodyResponse()
    return pb.BodyResponse(
        response=pb.CommonResponse(
            header_mutation=pb.HeaderMutation(
                set_headers=[header("content-length", str(len(body)))]
            ),
            body_mutation=pb.BodyMutation(body=body),
        )
    )


def error_response(
    status: int, code: str, message: str, retry_after: int | None = None
) -> pb.ProcessingResponse:
    """Stop the exchange here and answer the client with a JSON error (OpenAI's error shape,
    which the major SDKs surface as the exception message)."""
    body = json.dumps(
        {"error": {"type": "doppel_error", "code": code, "message": f"Doppel: {message}"}}
    ).encode()
    headers = [header("content-type", "application/json"), header("x-doppel-error", code)]
    if retry_after is not None:
        headers.append(header("retry-after", str(retry_after)))
    return pb.ProcessingResponse(
        immediate_response=pb.ImmediateResponse(
            status=http_status_pb2.HttpStatus(code=status),
            headers=pb.HeaderMutation(set_headers=headers),
            body=body,
            details=f"doppel_{code}",
        )
    )

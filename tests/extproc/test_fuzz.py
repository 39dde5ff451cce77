"""Fuzzing the exchange and the codecs: any message order or content gives a valid ext_proc
reply, a fail-closed refusal, or a ProtocolError the servicer turns into one — nothing else
escapes. ``DOPPEL_FUZZ_EXAMPLES=10000 pytest tests/extproc/test_fuzz.py`` is the long run."""

from __future__ import annotations

import json
import os

from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine
from engine.codecs import codec_for
from engine.codecs.jsontext import JSONTextError
from engine.restore import Match, Replacement, Restorer
from extproc.exchange import Exchange, ProtocolError

EXAMPLES = int(os.environ.get("DOPPEL_FUZZ_EXAMPLES", "300"))
PATHS = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1/embeddings",
    "/v1/completions",
    "/v1beta/models/g:streamGenerateContent?alt=sse",
    "/other",
    "",
]
TYPES = ["application/json", "text/event-stream", "text/plain", "application/octet-stream", ""]
SAMPLE = json.dumps({"messages": [{"role": "user", "content": "mail jane.doe@acme-corp.com"}]})

_bodies = st.one_of(
    st.binary(max_size=300),
    st.just(SAMPLE.encode()),
    st.text(max_size=200).map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=30),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    ).map(lambda v: json.dumps(v).encode()),
)


def _headers(draw_path: str, ctype: str, status: str, encoding: str) -> base_pb2.HeaderMap:
    items = {
        ":path": draw_path,
        "content-type": ctype,
        ":status": status,
        "content-encoding": encoding,
    }
    return base_pb2.HeaderMap(
        headers=[base_pb2.HeaderValue(key=k, raw_value=v.encode()) for k, v in items.items()]
    )


@st.composite
def messages(draw: st.DrawFn) -> pb.ProcessingRequest:
    kind = draw(
        st.sampled_from(
            [
                "request_headers",
                "request_body",
                "request_trailers",
                "response_headers",
                "response_body",
                "response_trailers",
            ]
        )
    )
    end = draw(st.booleans())
    if kind.endswith("headers"):
        hmap = _headers(
            draw(st.sampled_from(PATHS)),
            draw(st.sampled_from(TYPES)),
            draw(st.sampled_from(["200", "400", "500", ""])),
            draw(st.sampled_from(["", "identity", "gzip", "br", "zstd"])),
        )
        return pb.ProcessingRequest(**{kind: pb.HttpHeaders(headers=hmap, end_of_stream=end)})
    if kind.endswith("body"):
        return pb.ProcessingRequest(**{kind: pb.HttpBody(body=draw(_bodies), end_of_stream=end)})
    return pb.ProcessingRequest(**{kind: pb.HttpTrailers()})


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(messages(), min_size=1, max_size=8), ordered=st.booleans())
def test_any_message_sequence(
    engine: Engine, sequence: list[pb.ProcessingRequest], ordered: bool
) -> None:
    if ordered:  # bias towards the orders Envoy really uses, so the deep phases get fuzzed
        rank = [
            "request_headers",
            "request_body",
            "request_trailers",
            "response_headers",
            "response_body",
            "response_trailers",
        ]
        sequence = sorted(sequence, key=lambda m: rank.index(m.WhichOneof("request")))
    exchange = Exchange(engine)
    for message in sequence:
        try:
            reply = exchange.handle(message)
        except ProtocolError:
            return
        assert isinstance(reply, pb.ProcessingResponse)
        assert reply.WhichOneof("response") is not None
        if reply.HasField("immediate_response"):
            body = json.loads(reply.immediate_response.body)
            assert body["error"]["type"] == "doppel_error"
            assert b"jane.doe@acme-corp.com" not in reply.immediate_response.body
            return


RESTORER = Restorer(
    [
        Replacement("Maria", "Jane", Match.CASELESS),
        Replacement("+1 415-555-0134", "+1 212 555 0199", Match.SEPARATORS),
    ]
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(path=st.sampled_from(PATHS), raw=_bodies)
def test_codecs_raise_only_their_own_error(engine: Engine, path: str, raw: bytes) -> None:
    codec = codec_for(path)
    for call in (
        lambda: codec.mask_request(raw, engine.session()),
        lambda: codec.restore_response(raw, RESTORER),
    ):
        try:
            call()
        except JSONTextError:
            pass


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    path=st.sampled_from(PATHS),
    chunks=st.lists(_bodies, max_size=6),
    events=st.lists(
        st.sampled_from(
            [
                b"data: ",
                b"event: x\n",
                b"\n\n",
                b"\r\n",
                b": ka\n\n",
                b"data: [DONE]\n\n",
                b'data: {"choices": [{"delta": {"content": "Ma"}}]}\n\n',
            ]
        ),
        max_size=8,
    ),
)
def test_sse_streams_never_break(path: str, chunks: list[bytes], events: list[bytes]) -> None:
    stream = codec_for(path).stream(RESTORER)
    out = b"".join(stream.feed(c) for c in [*events, *chunks]) + stream.finish()
    assert isinstance(out, bytes)

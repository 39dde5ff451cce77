"""The ext_proc exchange driven directly, message by message, with the real engine: every
ordering Envoy produces, without a network."""

from __future__ import annotations

import json

import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb

from engine import Engine
from extproc.exchange import Exchange, Limits, Phase, ProtocolError

EMAIL = "jane.doe@acme-corp.com"
CARD = "4539 1488 0343 6467"


def headers(end_of_stream: bool = False, **extra: str) -> pb.ProcessingRequest:
    items = {":method": "POST", ":path": "/v1/chat/completions", "content-type": "application/json"}
    items.update({k.replace("_", "-"): v for k, v in extra.items()})
    hmap = base_pb2.HeaderMap(
        headers=[base_pb2.HeaderValue(key=k, raw_value=v.encode()) for k, v in items.items()]
    )
    return pb.ProcessingRequest(
        request_headers=pb.HttpHeaders(headers=hmap, end_of_stream=end_of_stream)
    )


def chat(text: str) -> bytes:
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}).encode()


def answer(text: str) -> bytes:
    return json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    ).encode()


def body(data: bytes, end: bool = True) -> pb.ProcessingRequest:
    return pb.ProcessingRequest(request_body=pb.HttpBody(body=data, end_of_stream=end))


def response_headers() -> pb.ProcessingRequest:
    return pb.ProcessingRequest(response_headers=pb.HttpHeaders(headers=base_pb2.HeaderMap()))


def response_body(data: bytes) -> pb.ProcessingRequest:
    return pb.ProcessingRequest(response_body=pb.HttpBody(body=data, end_of_stream=True))


def set_headers(common: pb.CommonResponse) -> dict[str, str]:
    return {h.header.key: h.header.raw_value.decode() for h in common.header_mutation.set_headers}


def test_round_trip(engine: Engine) -> None:
    ex = Exchange(engine)
    first = ex.handle(headers())
    assert set_headers(first.request_headers.response) == {"accept-encoding": "identity"}

    out = ex.handle(body(chat(f"Mail {EMAIL}, card {CARD}.")))
    common = out.request_body.response
    sent = common.body_mutation.body
    assert EMAIL.encode() not in sent and CARD.encode() not in sent
    assert set_headers(common)["content-length"] == str(len(sent))
    masked_text = json.loads(sent)["messages"][0]["content"]

    ex.handle(response_headers())
    back = ex.handle(response_body(answer(masked_text)))
    restored = json.loads(back.response_body.response.body_mutation.body)
    assert restored["choices"][0]["message"]["content"] == f"Mail {EMAIL}, card {CARD}."
    assert ex.phase is Phase.DONE


def test_body_without_personal_data_is_left_alone(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    out = ex.handle(body(chat("What is the capital of France?")))
    assert not out.request_body.response.HasField("body_mutation")


def test_request_without_body_goes_straight_to_the_response(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers(end_of_stream=True))
    assert ex.phase is Phase.RESPONSE_HEADERS
    ex.handle(response_headers())
    out = ex.handle(response_body(b'{"data": []}'))
    assert out.HasField("response_body")


@pytest.mark.parametrize("raw", [b'{"messages": [', b"\xff\xfe not utf-8", b'{"a": 1} trailing'])
def test_unparsable_body_is_blocked_with_a_json_error(engine: Engine, raw: bytes) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    out = ex.handle(body(raw))
    assert out.immediate_response.status.code == 400
    error = json.loads(out.immediate_response.body)["error"]
    assert error["code"] == "invalid_json" and "Doppel" in error["message"]


def test_body_over_the_limit_is_blocked(engine: Engine) -> None:
    ex = Exchange(engine, Limits(max_request_bytes=100))
    ex.handle(headers())
    out = ex.handle(body(chat("x" * 200)))
    assert out.immediate_response.status.code == 413


def test_compressed_request_body_is_refused(engine: Engine) -> None:
    out = Exchange(engine).handle(headers(content_encoding="gzip"))
    assert out.immediate_response.status.code == 415


def test_partial_body_in_buffered_mode_is_refused(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    out = ex.handle(body(chat(EMAIL)[:10], end=False))
    assert out.immediate_response.status.code == 500


def test_message_out_of_order_is_a_protocol_error(engine: Engine) -> None:
    ex = Exchange(engine)
    with pytest.raises(ProtocolError, match="request_body not expected in phase request_headers"):
        ex.handle(body(chat("hi")))
    ex.handle(headers())
    with pytest.raises(ProtocolError):
        ex.handle(response_body(b"{}"))


def test_masking_failure_is_fail_closed(engine: Engine) -> None:
    class Broken:
        name = "broken"
        entity_types = ("EMAIL",)

        def detect(self, text: str):
            raise RuntimeError("detector crashed")

    broken = Engine(detectors=[Broken()], pseudonymizer=engine.pseudonymizer)
    ex = Exchange(broken)
    ex.handle(headers())
    out = ex.handle(body(chat(EMAIL)))
    assert out.immediate_response.status.code == 500
    assert EMAIL.encode() not in out.immediate_response.body

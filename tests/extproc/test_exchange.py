"""The ext_proc exchange driven directly, message by message, with the real engine: every
ordering Envoy produces, without a network."""

from __future__ import annotations

import json

import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb

from engine import Engine, Policy
from extproc.exchange import (
    STREAMED,
    Exchange,
    ExchangeConfig,
    InvalidJSON,
    Phase,
    ProtocolError,
)
from tests.extproc.messages import (
    CARD,
    EMAIL,
    answer,
    body,
    chat,
    headers,
    response_body,
    response_headers,
    set_headers,
)


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


def test_unparsable_json_is_masked_as_text_by_default(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    raw = b'{"messages": [{"role": "user", "content": "mail ' + EMAIL.encode()
    out = ex.handle(body(raw))
    sent = out.request_body.response.body_mutation.body
    assert sent.startswith(b'{"messages": [{"role": "user", "content": "mail ')
    assert EMAIL.encode() not in sent


@pytest.mark.parametrize("raw", [b'{"messages": [', b'{"a": 1} trailing'])
def test_unparsable_json_can_be_rejected(engine: Engine, raw: bytes) -> None:
    ex = Exchange(engine, ExchangeConfig(invalid_json=InvalidJSON.REJECT))
    ex.handle(headers())
    out = ex.handle(body(raw))
    assert out.immediate_response.status.code == 400
    error = json.loads(out.immediate_response.body)["error"]
    assert error["code"] == "invalid_json" and "Doppel" in error["message"]


def test_body_that_is_not_text_is_blocked(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    out = ex.handle(body(b"\xff\xfe\x00 not utf-8"))
    assert out.immediate_response.status.code == 400


def test_plain_text_body_is_masked_as_text(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers(content_type="text/plain; charset=utf-8"))
    out = ex.handle(body(f"hello {EMAIL}".encode()))
    sent = out.request_body.response.body_mutation.body
    assert sent.startswith(b"hello ") and EMAIL.encode() not in sent


def test_opaque_media_type_is_blocked(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers(content_type="multipart/form-data; boundary=x"))
    out = ex.handle(body(b"--x\r\n" + EMAIL.encode()))
    assert out.immediate_response.status.code == 415


def test_body_over_the_limit_is_blocked(engine: Engine) -> None:
    ex = Exchange(engine, ExchangeConfig(max_request_bytes=100))
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


def response_headers_with(**items: str) -> pb.ProcessingRequest:
    hmap = base_pb2.HeaderMap(
        headers=[
            base_pb2.HeaderValue(key=k.replace("_", "-"), raw_value=v.encode())
            for k, v in items.items()
        ]
    )
    return pb.ProcessingRequest(response_headers=pb.HttpHeaders(headers=hmap))


def chunk(data: bytes, end: bool = False) -> pb.ProcessingRequest:
    return pb.ProcessingRequest(response_body=pb.HttpBody(body=data, end_of_stream=end))


def openai_sse(text: str, size: int = 3) -> bytes:
    events = [
        {"id": "c", "choices": [{"index": 0, "delta": {"content": text[i : i + size]}}]}
        for i in range(0, len(text), size)
    ]
    events.append({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + (
        b"data: [DONE]\n\n"
    )


def test_event_stream_is_streamed_and_split_doubles_are_restored(engine: Engine) -> None:
    prompt = f"Mail {EMAIL}, card {CARD}. Grüße ✓"
    ex = Exchange(engine)
    ex.handle(headers())
    sent = ex.handle(body(chat(prompt))).request_body.response.body_mutation.body
    masked = json.loads(sent)["messages"][0]["content"]

    out = ex.handle(
        response_headers_with(
            **{":status": "200", "content-type": "text/event-stream", "content_length": "999"}
        )
    )
    assert out.mode_override.response_body_mode == STREAMED
    assert "content-length" in out.response_headers.response.header_mutation.remove_headers

    stream = openai_sse(masked)
    pieces = [stream[i : i + 7] for i in range(0, len(stream), 7)]  # splits UTF-8 and events
    received = b""
    for i, piece in enumerate(pieces):
        reply = ex.handle(chunk(piece, end=i == len(pieces) - 1))
        received += reply.response_body.response.body_mutation.body
    events = [e for e in received.decode().split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    text = "".join(json.loads(e[6:])["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text == prompt
    assert ex.phase is Phase.DONE


def test_compressed_answer_is_decoded_before_restoring(engine: Engine) -> None:
    import gzip

    ex = Exchange(engine)
    ex.handle(headers())
    sent = ex.handle(body(chat(f"Mail {EMAIL}"))).request_body.response.body_mutation.body
    masked = json.loads(sent)["messages"][0]["content"]
    out = ex.handle(
        response_headers_with(
            **{":status": "200", "content-type": "application/json", "content-encoding": "gzip"}
        )
    )
    removed = out.response_headers.response.header_mutation.remove_headers
    assert "content-encoding" in removed
    reply = ex.handle(response_body(gzip.compress(answer(masked))))
    restored = json.loads(reply.response_body.response.body_mutation.body)
    assert restored["choices"][0]["message"]["content"] == f"Mail {EMAIL}"


def test_unknown_answer_encoding_is_an_error_not_doubles(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers(end_of_stream=True))
    out = ex.handle(response_headers_with(**{":status": "200", "content-encoding": "zstd"}))
    assert out.immediate_response.status.code == 502


def test_error_answers_are_restored_in_every_string(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    sent = ex.handle(body(chat(f"Mail {EMAIL}"))).request_body.response.body_mutation.body
    masked = json.loads(sent)["messages"][0]["content"]
    ex.handle(response_headers_with(**{":status": "400", "content-type": "application/json"}))
    error = json.dumps({"error": {"message": f"bad input: {masked}"}}).encode()
    reply = ex.handle(response_body(error))
    restored = json.loads(reply.response_body.response.body_mutation.body)
    assert restored["error"]["message"] == f"bad input: Mail {EMAIL}"


POLICIES = {
    "strict": Policy.from_dict("strict", {"actions": {"CREDIT_CARD": "block"}}, {"CREDIT_CARD"}),
    "audit": Policy.from_dict("audit", {"mode": "monitor", "report_header": True}, set()),
}


def _with_metadata(policy: str) -> pb.ProcessingRequest:
    request = headers()
    request.metadata_context.filter_metadata["doppel"].update({"policy": policy})
    return request


def test_policy_from_envoy_route_metadata_context(engine: Engine) -> None:
    ex = Exchange(engine, ExchangeConfig(policies=POLICIES))
    ex.handle(_with_metadata("strict"))
    out = ex.handle(body(chat(f"card {CARD}")))
    assert out.immediate_response.status.code == 403
    assert json.loads(out.immediate_response.body)["error"]["code"] == "blocked_by_policy"
    assert CARD.encode() not in out.immediate_response.body


def test_policy_from_grpc_route_metadata_wins(engine: Engine) -> None:
    ex = Exchange(engine, ExchangeConfig(policies=POLICIES), route={"policy": "audit"})
    ex.handle(_with_metadata("strict"))
    out = ex.handle(body(chat(f"card {CARD}, mail {EMAIL}")))
    assert not out.request_body.response.HasField("body_mutation")  # monitor: unchanged
    assert ex.outcome == "monitored"
    reply = ex.handle(response_headers())
    assert set_headers(reply.response_headers.response)["x-doppel-entities"] == (
        "CREDIT_CARD=1,EMAIL=1"
    )


def test_client_policy_header_is_ignored_unless_trusted(engine: Engine) -> None:
    untrusted = Exchange(engine, ExchangeConfig(policies=POLICIES))
    untrusted.handle(headers(x_doppel_policy="audit"))
    sent = untrusted.handle(body(chat(f"mail {EMAIL}"))).request_body.response.body_mutation.body
    assert EMAIL.encode() not in sent  # the client could not switch masking off

    trusted = Exchange(engine, ExchangeConfig(policies=POLICIES, trust_headers=True))
    trusted.handle(headers(x_doppel_policy="audit"))
    assert (
        trusted.handle(body(chat(f"mail {EMAIL}"))).request_body.response.body_mutation.body == b""
    )


def test_unknown_policy_fails_closed(engine: Engine) -> None:
    ex = Exchange(engine, ExchangeConfig(policies=POLICIES), route={"policy": "nope"})
    out = ex.handle(headers())
    assert out.immediate_response.status.code == 500
    assert json.loads(out.immediate_response.body)["error"]["code"] == "unknown_policy"


def test_tenant_from_route_changes_the_doubles(engine: Engine) -> None:
    def sent(route: dict[str, str]) -> bytes:
        ex = Exchange(engine, route=route)
        ex.handle(headers())
        return ex.handle(body(chat(f"mail {EMAIL}"))).request_body.response.body_mutation.body

    assert sent({"tenant": "a"}) != sent({"tenant": "b"})
    assert sent({"tenant": "a"}) == sent({"tenant": "a"})


def _responses_exchange(
    engine: Engine, config: ExchangeConfig, request: dict, answer_text: str | None = None
) -> tuple[str, str]:
    """One Responses API exchange; the provider's answer is ``answer_text`` with the masked
    input appended. Returns (what the provider saw, what the client got)."""
    ex = Exchange(engine, config)
    ex.handle(headers(**{":path": "/v1/responses"}))
    out = ex.handle(body(json.dumps(request).encode()))
    sent = out.request_body.response.body_mutation.body or json.dumps(request).encode()
    seen = json.loads(sent)["input"]
    text = f"{answer_text} {seen}" if answer_text else seen
    ex.handle(response_headers())
    reply = json.dumps(
        {
            "id": f"resp_{len(text)}",
            "object": "response",
            "output": [{"type": "message", "content": [{"type": "output_text", "text": text}]}],
        }
    ).encode()
    back = ex.handle(response_body(reply)).response_body.response.body_mutation.body or reply
    return seen, json.loads(back)["output"][0]["content"][0]["text"]


def test_vault_restores_doubles_of_an_earlier_exchange(engine: Engine) -> None:
    from engine.vault import MemoryVault

    for vault, restored in ((MemoryVault(), True), (None, False)):
        config = ExchangeConfig(vault=vault)
        seen, got = _responses_exchange(engine, config, {"input": f"mail {EMAIL}"})
        assert EMAIL not in seen and got == f"mail {EMAIL}"
        first_id = f"resp_{len(seen)}"
        # the provider remembers the double and repeats it; the new request does not carry it
        _, got = _responses_exchange(
            engine,
            config,
            {"input": "and again?", "previous_response_id": first_id},
            answer_text=seen,
        )
        assert (EMAIL in got) is restored


def test_answers_with_nothing_to_restore_are_not_buffered(engine: Engine) -> None:
    from extproc.exchange import NO_BODY

    ex = Exchange(engine)
    ex.handle(headers(**{":path": "/v1/embeddings"}))
    ex.handle(body(json.dumps({"input": f"mail {EMAIL}"}).encode()))
    out = ex.handle(response_headers_with(**{":status": "200", "content-type": "application/json"}))
    assert out.mode_override.response_body_mode == NO_BODY
    assert ex.phase is Phase.DONE


def test_restorer_can_be_prepared_before_the_answer(engine: Engine) -> None:
    ex = Exchange(engine)
    ex.handle(headers())
    assert not ex.needs_restorer
    out = ex.handle(body(chat(f"mail {EMAIL}")))
    assert ex.needs_restorer  # the server builds it on a worker while the provider works
    ex.prepare_restorer()
    assert not ex.needs_restorer
    masked = json.loads(out.request_body.response.body_mutation.body)["messages"][0]["content"]
    ex.handle(response_headers())
    back = ex.handle(response_body(answer(masked)))
    restored = json.loads(back.response_body.response.body_mutation.body)
    assert restored["choices"][0]["message"]["content"] == f"mail {EMAIL}"

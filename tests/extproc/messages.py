"""Build ext_proc messages the way Envoy sends them, for tests that drive Doppel directly."""

from __future__ import annotations

import json

from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb

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

"""End to end: client → real Envoy → Doppel → echo provider and back."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Stack, http

pytestmark = pytest.mark.e2e

PERSONAL = {
    "name": "Jane Doe",
    "street": "1200 Market Street",
    "email": "jane.doe@acme-corp.com",
    "card": "4539 1488 0343 6467",
    "iban": "DE89 3704 0044 0532 0130 00",
    "ip": "203.0.113.77",
}
PROMPT = (
    f"Please draft a note to {PERSONAL['name']} ({PERSONAL['email']}, {PERSONAL['street']}): "
    f"the refund goes to IBAN {PERSONAL['iban']}, "
    f"not to card {PERSONAL['card']}. The login came from {PERSONAL['ip']}. Grüße, 日本語 ✓"
)


def chat(text: str) -> bytes:
    return json.dumps(
        {
            "model": "gpt-4o-mini",
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": text},
            ],
        }
    ).encode()


def test_provider_never_sees_personal_data_and_client_gets_it_back(stack: Stack) -> None:
    stack.reset()
    result = http("POST", stack.gateway + "/v1/chat/completions", chat(PROMPT))
    assert result.status == 200, result.body
    assert result.json()["choices"][0]["message"]["content"] == PROMPT

    received = stack.received()
    assert len(received) == 1
    for kind, value in PERSONAL.items():
        assert value not in received[0], f"{kind} reached the provider"
    sent = json.loads(received[0])
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.2
    assert sent["messages"][0]["content"] == "You are terse."
    assert "Grüße, 日本語 ✓" in sent["messages"][1]["content"]


def test_same_original_gets_the_same_double_across_requests(stack: Stack) -> None:
    stack.reset()
    for _ in range(2):
        assert http("POST", stack.gateway + "/v1/chat/completions", chat(PROMPT)).status == 200
    first, second = stack.received()
    assert first == second


def test_unparsable_json_is_masked_as_text(stack: Stack) -> None:
    stack.reset()
    raw = b'{"messages": [{"role": "user", "content": "' + PERSONAL["email"].encode()
    result = http("POST", stack.gateway + "/v1/chat/completions", raw)
    assert result.status == 400  # the provider's answer: not JSON
    (received,) = stack.received()
    assert PERSONAL["email"] not in received
    assert received.startswith('{"messages": [{"role": "user", "content": "')


def test_body_that_cannot_be_inspected_is_blocked_and_never_sent(stack: Stack) -> None:
    stack.reset()
    result = http("POST", stack.gateway + "/v1/chat/completions", b"\xff\xfe\x00binary")
    assert result.status == 400
    assert result.headers["x-doppel-error"] == "invalid_body"
    assert result.json()["error"]["type"] == "doppel_error"
    assert stack.received() == []


def test_unknown_json_api_is_masked_in_every_string(stack: Stack) -> None:
    stack.reset()
    body = json.dumps({"model": "x", "note": f"ip {PERSONAL['ip']}", "tags": [PERSONAL["email"]]})
    result = http("POST", stack.gateway + "/v1/some/new/api", body.encode())
    assert result.status == 404  # the echo provider has no such route; the body still passed
    (received,) = stack.received()
    assert PERSONAL["ip"] not in received and PERSONAL["email"] not in received
    assert json.loads(received)["model"] == "x"

"""The policy matrix through the real Envoy: each action, allow and deny lists, a custom type,
monitor mode, and a policy chosen per route by Envoy (ExtProcPerRoute gRPC metadata)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine import Engine
from extproc.config import Config, ServerSection
from tests.e2e.conftest import http
from tests.e2e.rig import Rig, chat
from tests.e2e.rig import rig as start_rig

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@acme-corp.com"
SUPPORT = "support@doppel.example"
CARD = "4539 1488 0343 6467"
SSN = "536-22-8147"
IP = "203.0.113.77"
EMPLOYEE = "EMP-00424242"
TEXT = (
    f"From {EMAIL} (cc {SUPPORT}): card {CARD}, SSN {SSN}, login from {IP}, "
    f"employee {EMPLOYEE}, Project Nightingale."
)

POLICIES: dict[str, Any] = {
    "default": {
        "actions": {"SSN": "redact", "IP_ADDRESS": "allow", "EMAIL": "placeholder"},
        "allow": [SUPPORT],
        "deny": ["Project Nightingale"],
        "custom_types": [
            {"name": "EMPLOYEE_ID", "pattern": r"\bEMP-\d{8}\b", "double_format": "EMP-########"}
        ],
    },
    "strict": {"actions": {"CREDIT_CARD": "block"}},
    "audit": {"mode": "monitor", "report_header": True},
}
ROUTES = {"/strict/": "strict", "/audit/": "audit"}


def per_route_policies(cfg: dict[str, Any]) -> None:
    """Envoy picks the policy: /strict/... and /audit/... carry it as gRPC metadata."""
    hcm = cfg["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    vhost = hcm["typed_config"]["route_config"]["virtual_hosts"][0]
    openai = next(r for r in vhost["routes"] if r["match"]["prefix"] == "/openai/")
    extra = []
    for prefix, policy in ROUTES.items():
        route = json.loads(json.dumps(openai))
        route["match"]["prefix"] = prefix
        route["typed_per_filter_config"] = {
            "envoy.filters.http.ext_proc": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3."
                "ExtProcPerRoute",
                "overrides": {
                    "grpc_initial_metadata": [{"key": "x-doppel-policy", "value": policy}]
                },
            }
        }
        extra.append(route)
    vhost["routes"][:0] = extra


@pytest.fixture(scope="module")
def rig(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    config = Config(server=ServerSection(port=0, shutdown_grace_s=0.5), policies=POLICIES)
    policied = Engine(engine.detectors, engine.pseudonymizer, config.default_policy())
    with start_rig(
        policied, config, tmp_path_factory.mktemp("policy"), edit=per_route_policies
    ) as running:
        yield running


def send(rig: Rig, path: str, text: str = TEXT, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    rig.recorder.clear()
    result = http("POST", rig.gateway + path, chat(text), headers)
    received = rig.recorder.all()
    return result, (json.loads(received[0])["messages"][0]["content"] if received else None)


def test_default_policy_actions_lists_and_custom_type(rig: Rig) -> None:
    result, sent = send(rig, "/v1/chat/completions")
    assert result.status == 200
    assert "[EMAIL_1]" in sent and EMAIL not in sent  # placeholder
    assert SUPPORT in sent  # allow-listed
    assert "[SSN]" in sent and SSN not in sent  # one-way redaction
    assert IP in sent  # allowed type
    assert CARD not in sent  # default action: a double
    assert EMPLOYEE not in sent and "employee EMP-" in sent  # custom type, its double format
    assert "Nightingale" not in sent  # deny-listed
    answer = result.json()["choices"][0]["message"]["content"]
    assert answer == TEXT.replace(SSN, "[SSN]")  # everything but the redaction comes back


def test_route_policy_blocks(rig: Rig) -> None:
    result, sent = send(rig, "/strict/v1/chat/completions")
    assert result.status == 403
    assert result.json()["error"]["code"] == "blocked_by_policy"
    assert CARD not in result.body.decode()
    assert sent is None
    ok, sent = send(rig, "/strict/v1/chat/completions", f"mail {EMAIL}")
    assert ok.status == 200 and EMAIL not in sent


def test_route_policy_monitor_mode_forwards_unchanged_and_reports(rig: Rig) -> None:
    result, sent = send(rig, "/audit/v1/chat/completions")
    assert result.status == 200
    assert sent == TEXT
    report = dict(item.split("=") for item in result.headers["x-doppel-entities"].split(","))
    assert report["EMAIL"] == "2" and report["CREDIT_CARD"] == "1"


def test_client_cannot_pick_a_policy_with_a_header(rig: Rig) -> None:
    result, sent = send(rig, "/v1/chat/completions", headers={"x-doppel-policy": "audit"})
    assert result.status == 200
    assert EMAIL not in sent and CARD not in sent

"""Two Doppel replicas behind one Envoy: the answer to the second exchange (handled by replica
1) carries doubles created by the first (replica 0). A shared Redis vault restores them; without
it they would reach the client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import Engine
from engine.vault import MemoryVault, RedisVault
from extproc.config import Config, ServerSection
from tests.e2e.conftest import http
from tests.e2e.rig import rig

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@acme-corp.com"
CARD = "4539 1488 0343 6467"
SECRET = b"the-deployment-wide-doppel-key"


def conversation(gateway: str) -> tuple[str, str]:
    first = http(
        "POST",
        gateway + "/v1/responses",
        json.dumps({"model": "gpt-4.1", "input": f"mail {EMAIL}, card {CARD}"}).encode(),
    )
    assert first.status == 200, first.body
    first_id = first.json()["id"]
    second = http(
        "POST",
        gateway + "/replica1/v1/responses",
        json.dumps(
            {
                "model": "gpt-4.1",
                "input": "Repeat what I told you.",
                "previous_response_id": first_id,
            }
        ).encode(),
    )
    assert second.status == 200, second.body
    return first.json()["output"][0]["content"][0]["text"], (
        second.json()["output"][0]["content"][0]["text"]
    )


def test_shared_redis_vault_restores_across_replicas(
    engine: Engine, redis_url: str, tmp_path: Path
) -> None:
    config = Config(server=ServerSection(port=0, shutdown_grace_s=0.5))
    with rig(
        engine, config, tmp_path, replicas=2, vaults=lambda: RedisVault.from_url(redis_url, SECRET)
    ) as r:
        first, second = conversation(r.gateway)
        received = r.recorder.all()
    assert first == f"mail {EMAIL}, card {CARD}"
    assert second == f"mail {EMAIL}, card {CARD}\nRepeat what I told you."
    for body in received:
        assert EMAIL not in body and CARD not in body


def test_without_a_shared_vault_the_doubles_would_reach_the_client(
    engine: Engine, tmp_path: Path
) -> None:
    config = Config(server=ServerSection(port=0, shutdown_grace_s=0.5))
    with rig(engine, config, tmp_path, replicas=2, vaults=MemoryVault) as r:
        _, second = conversation(r.gateway)
    assert EMAIL not in second  # replica 1 never saw the first exchange: this is the gap

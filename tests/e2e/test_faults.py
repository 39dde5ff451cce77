"""Fault injection through the real Envoy: whatever goes wrong in Doppel, no request reaches
the provider unmasked (the echo provider's record proves it) and every client gets an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from engine import Engine
from extproc.config import Config, LimitsSection, ServerSection
from extproc.exchange import InvalidJSON
from tests.e2e.conftest import http
from tests.e2e.rig import Rig, chat
from tests.e2e.rig import rig as start_rig

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@acme-corp.com"
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def rig(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    config = Config(
        server=ServerSection(port=0, timeout_ms=500, shutdown_grace_s=0.5),
        limits=LimitsSection(max_body_bytes=MAX_BODY),
    )
    with start_rig(
        engine, config, tmp_path_factory.mktemp("faults"), max_body_bytes=MAX_BODY + 4096
    ) as running:
        yield running


class _Slow:
    name = "slow"
    entity_types = ("EMAIL",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def detect(self, text: str):  # type: ignore[no-untyped-def]
        time.sleep(self.seconds)
        return iter(())


class _Exploding:
    name = "exploding"
    entity_types = ("EMAIL",)

    def detect(self, text: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("detector crashed")


def _assert_refused(rig: Rig, status: int, code: str, raw: bytes) -> None:
    rig.recorder.clear()
    result = http("POST", rig.gateway + "/v1/chat/completions", raw)
    assert result.status == status, result.body[:300]
    assert result.json()["error"]["code"] == code
    assert EMAIL.encode() not in result.body
    assert rig.recorder.all() == [], "a request reached the provider"


def test_healthy_rig_masks(rig: Rig) -> None:
    rig.use(rig.engine)
    rig.recorder.clear()
    assert http("POST", rig.gateway + "/v1/chat/completions", chat(f"mail {EMAIL}")).status == 200
    (received,) = rig.recorder.all()
    assert EMAIL not in received


def test_slow_engine_is_refused_not_forwarded(rig: Rig) -> None:
    rig.use(Engine([_Slow(2.0)], rig.engine.pseudonymizer, cache_size=0))
    _assert_refused(rig, 503, "masking_timeout", chat(f"mail {EMAIL}"))


def test_engine_exception_is_refused_not_forwarded(rig: Rig) -> None:
    rig.use(Engine([_Exploding()], rig.engine.pseudonymizer, cache_size=0))
    _assert_refused(rig, 500, "masking_failed", chat(f"mail {EMAIL}"))


def test_over_size_body_is_refused_not_forwarded(rig: Rig) -> None:
    rig.use(rig.engine)
    _assert_refused(rig, 413, "request_too_large", chat(f"mail {EMAIL} " + "x" * MAX_BODY))
    # over Envoy's own buffer limit too: still 413, still JSON
    _assert_refused(
        rig, 413, "request_payload_too_large", chat(f"mail {EMAIL} " + "x" * (2 * MAX_BODY))
    )


def test_unparsable_body_under_blocking_policy_is_refused(rig: Rig) -> None:
    rig.use(rig.engine, invalid_json="reject")
    assert rig.server.config.exchange_config().invalid_json is InvalidJSON.REJECT
    _assert_refused(rig, 400, "invalid_json", chat(f"mail {EMAIL}")[:-3])


def test_doppel_killed_mid_request_forwards_nothing(rig: Rig) -> None:
    """Runs last in this module: it kills the server."""
    rig.use(Engine([_Slow(1.0)], rig.engine.pseudonymizer, cache_size=0))
    rig.recorder.clear()
    pending: Future[object] = Future()

    def send() -> None:
        pending.set_result(
            http("POST", rig.gateway + "/v1/chat/completions", chat(f"mail {EMAIL}"))
        )

    threading.Thread(target=send, daemon=True).start()
    time.sleep(0.3)  # the request is inside the slow detector now
    rig.loop.run(rig.server._server.stop(grace=0))  # abrupt: no drain
    result = pending.result(15)
    assert result.status >= 500, result  # type: ignore[attr-defined]
    assert rig.recorder.all() == []
    # and with Doppel gone, nothing passes either (failure_mode_allow: false)
    second = http("POST", rig.gateway + "/v1/chat/completions", chat(f"mail {EMAIL}"))
    assert second.status >= 500
    assert second.json()["error"]["code"] == "doppel_unavailable"  # a reason, in JSON
    assert rig.recorder.all() == []

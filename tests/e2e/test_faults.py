"""Fault injection through the real Envoy: whatever goes wrong in Doppel, no request reaches
the provider unmasked (the echo provider's record proves it) and every client gets an error."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from engine import Engine
from extproc import envoy_config
from extproc.config import Config, LimitsSection, ServerSection
from extproc.echo_provider import Recorder, make_server
from extproc.exchange import InvalidJSON
from extproc.gateway import envoy_binary, wait_for_listener
from extproc.server import DoppelServer
from tests.e2e.conftest import http

pytestmark = pytest.mark.e2e

EMAIL = "jane.doe@acme-corp.com"
MAX_BODY = 64 * 1024


def chat(text: str) -> bytes:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}).encode()


class Loop:
    """An asyncio loop in a thread, for the in-process Doppel server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class Rig:
    gateway: str
    server: DoppelServer
    recorder: Recorder
    loop: Loop
    engine: Engine

    def use(self, engine: Engine, **limits: object) -> None:
        config = replace(self.server.config, limits=replace(self.server.config.limits, **limits))
        self.server.reload(config, engine)


@pytest.fixture(scope="module")
def rig(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    tmp = tmp_path_factory.mktemp("faults")
    echo, recorder = make_server("127.0.0.1", 0)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    loop = Loop()
    config = Config(
        server=ServerSection(port=0, timeout_ms=500, shutdown_grace_s=0.5),
        limits=LimitsSection(max_body_bytes=MAX_BODY),
    )

    async def start() -> DoppelServer:  # grpc.aio objects belong to the loop that made them
        server = DoppelServer(config, engine)
        await server.start()
        return server

    server = loop.run(start())
    upstream = envoy_config.Upstream(f"http://127.0.0.1:{echo.server_address[1]}")
    cfg = envoy_config.gateway_config(
        listen_port=0,
        extproc_port=server.port,
        admin_port=0,
        upstreams={name: upstream for name in envoy_config.PROVIDERS},
        max_body_bytes=MAX_BODY + 4096,
    )
    path = Path(tmp, "envoy.yaml")
    path.write_text(envoy_config.to_yaml(cfg))
    admin = Path(tmp, "admin")
    envoy = subprocess.Popen(
        [
            envoy_binary(),
            "-c",
            str(path),
            "--admin-address-path",
            str(admin),
            "--disable-hot-restart",
            "--log-level",
            "error",
        ],
        start_new_session=True,
    )
    port = wait_for_listener(admin, envoy, 30)
    try:
        yield Rig(f"http://127.0.0.1:{port}", server, recorder, loop, engine)
    finally:
        envoy.terminate()
        envoy.wait(10)
        loop.run(server.stop())
        loop.close()
        echo.shutdown()


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
    assert rig.recorder.all() == []

"""`doppel serve` as operators run it: a config file, health, metrics, SIGHUP reload, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.conftest import start
from tests.extproc.messages import EMAIL, body, chat, headers
from tests.extproc.test_server import exchange

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def masked(address: str) -> bytes:
    async def go() -> bytes:
        async with grpc.aio.insecure_channel(address) as ch:
            replies = await exchange(ch, [headers(), body(chat(f"mail {EMAIL}"))])
            return replies[1].request_body.response.body_mutation.body

    return asyncio.run(go())


def test_serve_with_config_health_metrics_reload_and_drain(tmp_path: Path) -> None:
    metrics_port = free_port()
    config = tmp_path / "doppel.yaml"
    config.write_text(f"metrics:\n  port: {metrics_port}\nlog:\n  format: json\n")
    proc, address = start(
        ["serve", "--config", str(config), "--port", "0"], "Doppel ext_proc server listening"
    )
    try:
        with grpc.insecure_channel(address) as ch:
            status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
            assert status.status == health_pb2.HealthCheckResponse.SERVING

        first = masked(address)
        assert EMAIL.encode() not in first and b"[EMAIL_1]" not in first

        metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read()
        assert b'doppel_exchanges_total{api="openai.chat",outcome="masked"}' in metrics
        assert b'doppel_entities_masked_total{type="EMAIL"}' in metrics
        assert EMAIL.encode() not in metrics

        config.write_text(
            f"metrics:\n  port: {metrics_port}\nengine:\n  placeholder_types: [EMAIL]\n"
        )
        os.kill(proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 20
        while b"[EMAIL_1]" not in masked(address):
            assert time.monotonic() < deadline, "SIGHUP did not reload the configuration"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "doppel.yaml"
    config.write_text("server:\n  wrokers: 2\n")
    with pytest.raises(RuntimeError, match=r"server\.wrokers: unknown key"):
        start(["serve", "--config", str(config), "--port", "0"], "Doppel ext_proc server")

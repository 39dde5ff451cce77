"""The gRPC server in-process: health, reflection, TLS/mTLS, overload, timeouts, restore
failures, reload — driven by a real grpc.aio client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as pb_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from engine import Engine, Policy
from extproc import metrics
from extproc.config import Config, ServerSection, TLSSection
from extproc.server import DoppelServer
from tests.extproc.certs import make_certs
from tests.extproc.messages import (
    EMAIL,
    answer,
    body,
    chat,
    headers,
    response_body,
    response_headers,
)


def config(**server: object) -> Config:
    return Config(server=ServerSection(host="127.0.0.1", port=0, **server))  # type: ignore[arg-type]


async def exchange(
    channel: grpc.aio.Channel, messages: Iterable[pb.ProcessingRequest]
) -> list[pb.ProcessingResponse]:
    stub = pb_grpc.ExternalProcessorStub(channel)

    async def requests() -> AsyncIterator[pb.ProcessingRequest]:
        for m in messages:
            yield m

    return [r async for r in stub.Process(requests())]


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def started(cfg: Config, engine: Engine) -> DoppelServer:
    server = DoppelServer(cfg, engine)
    await server.start()
    return server


def test_round_trip_over_grpc(engine: Engine) -> None:
    async def go() -> None:
        server = await started(config(), engine)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            replies = await exchange(ch, [headers(), body(chat(f"mail {EMAIL}"))])
            sent = replies[1].request_body.response.body_mutation.body
            assert EMAIL.encode() not in sent
        await server.stop()

    run(go())


def test_health_is_serving_once_started_and_not_after_stop(engine: Engine) -> None:
    async def go() -> None:
        server = DoppelServer(config(), engine)
        await server.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service="envoy.service.ext_proc.v3.ExternalProcessor")
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        await server.stop()

    run(go())


def test_reflection_lists_the_services(engine: Engine) -> None:
    async def go() -> None:
        server = await started(config(), engine)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            stub = reflection_pb2_grpc.ServerReflectionStub(ch)

            async def ask():  # type: ignore[no-untyped-def]
                yield reflection_pb2.ServerReflectionRequest(list_services="")

            names = [
                s.name
                async for r in stub.ServerReflectionInfo(ask())
                for s in r.list_services_response.service
            ]
        await server.stop()
        assert "envoy.service.ext_proc.v3.ExternalProcessor" in names
        assert "grpc.health.v1.Health" in names

    run(go())


def test_mtls_accepts_our_client_and_refuses_others(engine: Engine, tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    cfg = replace(
        config(),
        tls=TLSSection(
            cert_file=str(certs.server_cert),
            key_file=str(certs.server_key),
            client_ca_file=str(certs.ca),
        ),
    )

    def creds(cert: Path, key: Path) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            certs.ca.read_bytes(), key.read_bytes(), cert.read_bytes()
        )

    async def go() -> None:
        server = await started(cfg, engine)
        target = f"127.0.0.1:{server.port}"
        good = creds(certs.client_cert, certs.client_key)
        async with grpc.aio.secure_channel(target, good) as ch:
            replies = await exchange(ch, [headers(), body(chat(f"mail {EMAIL}"))])
            assert EMAIL.encode() not in replies[1].request_body.response.body_mutation.body
        stranger = creds(certs.other_client_cert, certs.other_client_key)
        for channel in (
            grpc.aio.secure_channel(target, stranger),
            grpc.aio.insecure_channel(target),
        ):
            async with channel as ch:
                with pytest.raises(grpc.aio.AioRpcError):
                    await exchange(ch, [headers()])
        await server.stop()

    run(go())


class _Slow:
    """A detector that takes its time: what a huge prompt on a loaded machine looks like."""

    name = "slow"
    entity_types = ("EMAIL",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.release = threading.Event()

    def detect(self, text: str):  # type: ignore[no-untyped-def]
        self.release.wait(self.seconds)
        return iter(())


def test_masking_over_budget_is_refused_with_503(engine: Engine) -> None:
    slow = Engine([_Slow(5.0)], engine.pseudonymizer, cache_size=0)

    async def go() -> None:
        server = await started(config(timeout_ms=200), engine)
        server.reload(server.config, slow)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            started_at = time.monotonic()
            replies = await exchange(ch, [headers(), body(chat(f"mail {EMAIL}"))])
            assert time.monotonic() - started_at < 3
        slow.detectors[0].release.set()
        await server.stop()
        refusal = replies[-1].immediate_response
        assert refusal.status.code == 503
        assert json.loads(refusal.body)["error"]["code"] == "masking_timeout"

    run(go())


def test_saturated_executor_refuses_with_503_and_retry_after(engine: Engine) -> None:
    slow_detector = _Slow(10.0)
    slow = Engine([slow_detector], engine.pseudonymizer, cache_size=0)

    async def go() -> None:
        server = await started(config(workers=1, max_pending=2, timeout_ms=8000), engine)
        server.reload(server.config, slow)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            busy = [
                asyncio.create_task(exchange(ch, [headers(), body(chat("hello"))]))
                for _ in range(2)
            ]
            await asyncio.sleep(0.5)
            replies = await exchange(ch, [headers(), body(chat("one more"))])
            slow_detector.release.set()
            await asyncio.gather(*busy)
        await server.stop()
        refusal = replies[-1].immediate_response
        assert refusal.status.code == 503
        assert {h.header.key: h.header.raw_value for h in refusal.headers.set_headers}[
            "retry-after"
        ] == b"1"

    run(go())


class _Exploding:
    name = "exploding"
    entity_types = ("EMAIL",)

    def detect(self, text: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")


def test_restore_failure_passes_the_answer_on_and_is_counted(engine: Engine) -> None:
    async def go() -> None:
        server = await started(config(), engine)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            before = (
                metrics.REGISTRY.get_sample_value(
                    "doppel_restore_failures_total", {"api": "openai.chat"}
                )
                or 0
            )
            # a response body the restorer cannot decode: gzip header, then garbage
            bad = pb.ProcessingRequest(
                response_headers=pb.HttpHeaders(headers=response_headers().response_headers.headers)
            )
            bad.response_headers.headers.headers.add(key="content-encoding", raw_value=b"gzip")
            replies = await exchange(
                ch,
                [
                    headers(),
                    body(chat(f"mail {EMAIL}")),
                    bad,
                    response_body(b"\x1f\x8b not gzip at all"),
                ],
            )
            after = metrics.REGISTRY.get_sample_value(
                "doppel_restore_failures_total", {"api": "openai.chat"}
            )
        await server.stop()
        assert replies[-1].HasField("response_body")
        assert after == before + 1

    run(go())


def test_reload_swaps_the_engine_for_new_exchanges(engine: Engine) -> None:
    placeholders = Engine(engine.detectors, engine.pseudonymizer, Policy.placeholders({"EMAIL"}))

    async def go() -> None:
        server = await started(config(), engine)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            before = await exchange(ch, [headers(), body(chat(f"mail {EMAIL}"))])
            server.reload(server.config, placeholders)
            after = await exchange(ch, [headers(), body(chat(f"mail {EMAIL}"))])
        await server.stop()
        assert b"[EMAIL_1]" not in before[1].request_body.response.body_mutation.body
        assert b"[EMAIL_1]" in after[1].request_body.response.body_mutation.body

    run(go())


def test_engine_exception_is_fail_closed_over_grpc(engine: Engine) -> None:
    broken = Engine([_Exploding()], engine.pseudonymizer, cache_size=0)

    async def go() -> None:
        server = await started(config(), engine)
        server.reload(server.config, broken)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            replies = await exchange(
                ch,
                [
                    headers(),
                    body(chat(f"mail {EMAIL}")),
                    response_headers(),
                    response_body(answer("x")),
                ],
            )
        await server.stop()
        assert len(replies) == 2
        assert replies[1].immediate_response.status.code == 500
        assert EMAIL.encode() not in replies[1].immediate_response.body

    run(go())


def test_direct_api_is_opt_in_on_its_own_port(engine: Engine) -> None:
    from extproc.config import DirectSection
    from extproc.doppel_pb import privacy_pb2, privacy_pb2_grpc

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go() -> None:
        server = await started(replace(config(), direct=DirectSection(port=port)), engine)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = privacy_pb2_grpc.PrivacyStub(ch)
            masked = await stub.Mask(privacy_pb2.MaskRequest(texts=[f"mail {EMAIL}"]))
            assert EMAIL not in masked.texts[0]
            back = await stub.Restore(
                privacy_pb2.RestoreRequest(session=masked.session, texts=list(masked.texts))
            )
            assert list(back.texts) == [f"mail {EMAIL}"]
        # not on the ext_proc port
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as ch:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await privacy_pb2_grpc.PrivacyStub(ch).Mask(privacy_pb2.MaskRequest(texts=["x"]))
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
        await server.stop()

    run(go())

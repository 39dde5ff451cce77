"""The ext_proc gRPC server: a thin ``grpc.aio`` loop around :class:`extproc.exchange.Exchange`.

The event loop only moves messages. Masking and restoring (regexes, the ONNX model) run in a
bounded thread pool; when too many tasks are pending a request is refused with 503 rather than
queued without end, and a request that cannot be masked within its budget is refused with 503
(both fail closed: nothing is sent). A long streamed answer holds no thread between chunks.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as pb_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from engine.masking import Engine
from engine.vault import Vault
from extproc import metrics
from extproc.config import Config, ConfigError, ServerSection, TLSSection
from extproc.config import load as load_config
from extproc.exchange import Exchange, ExchangeConfig, ProtocolError

log = logging.getLogger(__name__)

SERVICE = pb.DESCRIPTOR.services_by_name["ExternalProcessor"].full_name
GRPC_OVERHEAD = 64 * 1024  # headers and framing around a body of the maximum size
# Restoring a small answer chunk (an SSE event or two) takes microseconds: do it on the loop,
# so streamed tokens never queue behind a large prompt being masked.
INLINE_BYTES = 16 * 1024


@dataclass(frozen=True)
class Runtime:
    """What a new exchange is built from. Replaced as a whole on reload; an exchange keeps the
    runtime it started with, so a reload never changes an exchange midway."""

    engine: Engine
    exchange: ExchangeConfig


class ExternalProcessor(pb_grpc.ExternalProcessorServicer):
    def __init__(self, runtime: Runtime, server: ServerSection) -> None:
        self.runtime = runtime
        self.executor = ThreadPoolExecutor(max_workers=server.workers, thread_name_prefix="doppel")
        self._max_pending = server.max_pending
        self._timeout = server.timeout_ms / 1000
        self._pending = 0

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def Process(
        self,
        request_iterator: AsyncIterator[pb.ProcessingRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.ProcessingResponse]:
        runtime = self.runtime
        exchange = Exchange(runtime.engine, runtime.exchange, route=_route_selectors(context))
        timings: Counter[str] = Counter()
        metrics.INFLIGHT.inc()
        restorer: asyncio.Future | None = None
        try:
            async for request in request_iterator:
                kind = request.WhichOneof("request")
                started = time.perf_counter()
                if restorer is not None and kind != "request_trailers":
                    await asyncio.wait([restorer])
                    restorer = None
                response = await self._handle(exchange, request, kind)
                elapsed = time.perf_counter() - started
                metrics.PHASE_SECONDS.labels(kind or "unknown").observe(elapsed)
                timings[kind or "unknown"] += elapsed
                yield response
                if response.HasField("immediate_response"):
                    return  # Envoy has answered the client; this exchange is over
                if kind == "request_body" and exchange.needs_restorer:
                    # The restorer (~10 µs per double: milliseconds for a long conversation)
                    # is built on a worker while the provider works, not on the event loop
                    # when the answer arrives.
                    restorer = asyncio.get_running_loop().run_in_executor(
                        self.executor, exchange.prepare_restorer
                    )
        finally:
            metrics.INFLIGHT.dec()
            _record(exchange, timings)

    async def _handle(
        self, exchange: Exchange, request: pb.ProcessingRequest, kind: str | None
    ) -> pb.ProcessingResponse:
        try:
            if kind == "request_body":
                return await self._mask(exchange, request)
            if kind == "response_body" and len(request.response_body.body) > INLINE_BYTES:
                return await self._offload(exchange, request)
            if kind == "response_headers" and exchange.needs_restorer:
                # builds the restorer if it is not ready (milliseconds for many new doubles)
                # off the loop every other exchange's tokens go through
                return await self._offload(exchange, request)
            return exchange.handle(request)
        except ProtocolError as exc:
            log.error(
                "ext_proc protocol error; exchange refused",
                extra={"error": str(exc), "request_id": exchange.request_id},
            )
            return exchange.refuse(500, "protocol_error", "unexpected ext_proc message order")
        except Exception as exc:
            # Fail closed: whatever broke, the request does not leave and the client hears why.
            log.error(
                "exchange failed",
                extra={
                    "error": type(exc).__name__,
                    "phase": exchange.phase.value,
                    "request_id": exchange.request_id,
                },
            )
            return exchange.refuse(500, "internal_error", "failed while processing this exchange")

    async def _mask(
        self, exchange: Exchange, request: pb.ProcessingRequest
    ) -> pb.ProcessingResponse:
        if self._pending >= self._max_pending:
            metrics.REJECTED.labels("overloaded").inc()
            return exchange.refuse(
                503, "overloaded", "too many requests in flight; retry shortly", retry_after=1
            )
        try:
            return await asyncio.wait_for(self._offload(exchange, request), self._timeout)
        except TimeoutError:
            # The worker may still finish; its result is dropped with this exchange.
            metrics.REJECTED.labels("timeout").inc()
            return exchange.refuse(
                503,
                "masking_timeout",
                f"could not mask this request within {self._timeout:g}s, so it was not sent",
                retry_after=1,
            )

    async def _offload(
        self, exchange: Exchange, request: pb.ProcessingRequest
    ) -> pb.ProcessingResponse:
        self._pending += 1
        metrics.PENDING.set(self._pending)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.executor, exchange.handle, request)
        finally:
            self._pending -= 1
            metrics.PENDING.set(self._pending)


def _vault_secret(config: Config) -> bytes:
    """Replicas that share a Redis vault must share DOPPEL_KEY; without one, a random key."""
    key = config.hmac_key()
    if key is None:
        import secrets

        return secrets.token_bytes(32)
    return key


def _route_selectors(context: grpc.aio.ServicerContext) -> dict[str, str]:
    """Policy and tenant that Envoy set for the route (ExtProcPerRoute grpc_initial_metadata):
    clients cannot reach these, unlike request headers."""
    metadata = dict(context.invocation_metadata() or ())
    return {
        key: str(metadata[f"x-doppel-{key}"])
        for key in ("policy", "tenant")
        if f"x-doppel-{key}" in metadata
    }


def _record(exchange: Exchange, timings: Counter[str]) -> None:
    api = exchange.codec.name
    outcome = exchange.outcome
    metrics.EXCHANGES.labels(api, outcome).inc()
    counts = dict(exchange.session.counts) if exchange.session else {}
    for entity_type, n in counts.items():
        metrics.ENTITIES.labels(entity_type).inc(n)
    if exchange.restore_failures:
        metrics.RESTORE_FAILURES.labels(api).inc(exchange.restore_failures)
    if exchange.vault_errors:
        metrics.VAULT_ERRORS.inc(exchange.vault_errors)
    log.info(
        "exchange",
        extra={
            "request_id": exchange.request_id,
            "api": api,
            "outcome": outcome,
            "entities": counts,
            "restore_failures": exchange.restore_failures,
            "vault_errors": exchange.vault_errors,
            "ms": {k: round(v * 1000, 2) for k, v in timings.items()},
        },
    )


def _credentials(tls: TLSSection) -> grpc.ServerCredentials | None:
    if not tls.cert_file:
        return None
    cert, key = Path(tls.cert_file).read_bytes(), Path(tls.key_file).read_bytes()
    ca = Path(tls.client_ca_file).read_bytes() if tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=ca is not None
    )


class DoppelServer:
    """The gRPC server with ext_proc, health and reflection; ``reload()`` swaps the runtime."""

    def __init__(self, config: Config, engine: Engine, vault: Vault | None = None) -> None:
        self.config = config
        # One vault for the server's life: a reload must not forget the doubles it holds.
        self.vault = vault if vault is not None else config.make_vault(_vault_secret(config))
        self.processor = ExternalProcessor(
            Runtime(engine, config.exchange_config(self.vault)), config.server
        )
        limit = config.limits.max_body_bytes + GRPC_OVERHEAD
        self._server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
            ]
        )
        pb_grpc.add_ExternalProcessorServicer_to_server(self.processor, self._server)
        self._health_sync = None
        services = [SERVICE]
        if config.server.health:
            self._health_sync = health.HealthServicer(experimental_non_blocking=True)
            health_pb2_grpc.add_HealthServicer_to_server(self._health_sync, self._server)
            services.append(health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
            self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        if config.server.reflection:
            services.append(reflection.SERVICE_NAME)
            reflection.enable_server_reflection(services, self._server)
        self.port = 0
        self.direct_port = 0
        self._direct = self._direct_server(config, limit)

    def _direct_server(self, config: Config, limit: int) -> grpc.aio.Server | None:
        """doppel.v1.Privacy on its own server, so the API is reachable only when opted in."""
        if not config.direct.port:
            return None
        from extproc import direct

        servicer = direct.PrivacyServicer(
            lambda: self.processor.runtime.engine,
            _vault_secret(config),
            executor=self.processor.executor,
        )
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
            ]
        )
        direct.add_to_server(server, servicer)
        reflection.enable_server_reflection([direct.SERVICE_NAME, reflection.SERVICE_NAME], server)
        return server

    def _set_health(self, status: int) -> None:
        if self._health_sync is not None:
            self._health_sync.set("", status)
            self._health_sync.set(SERVICE, status)

    async def start(self) -> int:
        host, port = self.config.server.host, self.config.server.port
        creds = _credentials(self.config.tls)
        address = f"{host}:{port}"
        bound = (
            self._server.add_secure_port(address, creds)
            if creds
            else self._server.add_insecure_port(address)
        )
        if bound == 0:
            raise OSError(f"cannot listen on {address}")
        await self._server.start()
        if self._direct is not None:
            direct = f"{self.config.direct.host}:{self.config.direct.port}"
            self.direct_port = (
                self._direct.add_secure_port(direct, creds)
                if creds
                else self._direct.add_insecure_port(direct)
            )
            if self.direct_port == 0:
                raise OSError(f"cannot listen on {direct}")
            await self._direct.start()
            log.info("direct API listening", extra={"address": direct})
        # Warm up (model session, caches) before saying SERVING.
        await asyncio.get_running_loop().run_in_executor(
            None, self.processor.runtime.engine.warm_up
        )
        self._set_health(health_pb2.HealthCheckResponse.SERVING)
        self.port = bound
        log.info(
            "ext_proc server listening",
            extra={"address": f"{host}:{bound}", "tls": creds is not None},
        )
        return bound

    def reload(self, config: Config, engine: Engine) -> None:
        """Use a new engine and policy for new exchanges; in-flight ones finish on the old."""
        if (config.server, config.tls) != (self.config.server, self.config.tls):
            log.warning("server and tls settings change only on restart")
        if config.vault != self.config.vault:
            log.warning("vault settings change only on restart")
        self.processor.runtime = Runtime(engine, config.exchange_config(self.vault))
        self.config = config
        log.info("configuration reloaded")

    async def stop(self) -> None:
        """Stop accepting, let in-flight exchanges finish up to the grace period."""
        self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        if self._direct is not None:
            await self._direct.stop(grace=self.config.server.shutdown_grace_s)
        await self._server.stop(grace=self.config.server.shutdown_grace_s)
        self.processor.shutdown()

    async def wait(self) -> None:
        await self._server.wait_for_termination()


async def serve(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 50051,
    config: Config | None = None,
    ready: asyncio.Future[int] | None = None,
) -> None:
    """Run the ext_proc server until cancelled. ``ready`` receives the bound port."""
    config = config or Config()
    config = replace(config, server=replace(config.server, host=host, port=port))
    server = DoppelServer(config, engine)
    await server.start()
    if ready is not None:
        ready.set_result(server.port)
    try:
        await server.wait()
    finally:
        await server.stop()


def engine_from(config: Config) -> Engine:
    """The engine a configuration describes."""
    from engine import build_engine

    e = config.engine
    return build_engine(
        config.hmac_key(),
        phone_region=e.phone_region,
        locale=e.locale,
        cache_size=e.cache_size,
        policy=config.default_policy(),
        # engine.model: false, or $DOPPEL_MODEL=0, runs the pattern detectors only
        model=False if not e.model else None,
        model_threads=e.model_threads or None,
    )


async def run(
    config: Config, config_path: str | None = None, on_ready: Callable[[str], None] = print
) -> int:
    """``doppel serve``: run until SIGTERM/SIGINT, drain, exit. SIGHUP re-reads the
    configuration file and swaps in a new engine without dropping exchanges."""
    loop = asyncio.get_running_loop()
    engine = await loop.run_in_executor(None, engine_from, config)
    server = DoppelServer(config, engine)
    port = await server.start()
    if config.metrics.port:
        bound = metrics.serve_metrics(config.metrics.host, config.metrics.port)
        log.info("metrics listening", extra={"address": f"{config.metrics.host}:{bound}"})
    stop = asyncio.Event()
    reloading: set[asyncio.Task[None]] = set()

    async def reload() -> None:
        try:
            new = await loop.run_in_executor(None, load_config, config_path)
            new_engine = await loop.run_in_executor(None, engine_from, new)
        except Exception as exc:  # a bad edit keeps the running configuration
            log.error(
                "reload failed; keeping the running configuration",
                extra={"error": str(exc) if isinstance(exc, ConfigError) else type(exc).__name__},
            )
            return
        server.reload(new, new_engine)

    def on_hup() -> None:
        task = loop.create_task(reload())
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    on_ready(f"{config.server.host}:{port}")
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0

"""The ext_proc gRPC servicer: a thin ``grpc.aio`` loop around :class:`extproc.exchange.Exchange`.

The event loop only moves messages; masking and restoring (regexes, the ONNX model) run in a
bounded thread pool so one large body never stalls every other stream.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2 as pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as pb_grpc

from engine.masking import Engine
from extproc.exchange import Exchange, ExchangeConfig, error_response

log = logging.getLogger(__name__)

_CPU_BOUND = frozenset({"request_body", "response_body"})
GRPC_MAX_MESSAGE = 64 * 1024 * 1024


class ExternalProcessor(pb_grpc.ExternalProcessorServicer):
    def __init__(
        self, engine: Engine, executor: ThreadPoolExecutor, config: ExchangeConfig
    ) -> None:
        self._engine = engine
        self._executor = executor
        self._config = config

    async def Process(
        self,
        request_iterator: AsyncIterator[pb.ProcessingRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.ProcessingResponse]:
        exchange = Exchange(self._engine, self._config)
        loop = asyncio.get_running_loop()
        async for request in request_iterator:
            kind = request.WhichOneof("request")
            try:
                if kind in _CPU_BOUND:
                    response = await loop.run_in_executor(self._executor, exchange.handle, request)
                else:
                    response = exchange.handle(request)
            except Exception as exc:
                # Fail closed: whatever broke, the request does not leave and the client hears why.
                log.error(
                    "exchange failed in phase %s on %s: %s",
                    exchange.phase.value,
                    kind,
                    type(exc).__name__,
                )
                yield error_response(
                    500, "internal_error", "Doppel failed while processing this exchange"
                )
                return
            yield response
            if response.HasField("immediate_response"):
                return  # Envoy has answered the client; this exchange is over


async def serve(
    engine: Engine,
    host: str = "127.0.0.1",
    port: int = 50051,
    config: ExchangeConfig | None = None,
    ready: asyncio.Future[int] | None = None,
) -> None:
    """Run the ext_proc server until cancelled. ``ready`` receives the bound port."""
    executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="doppel")
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", GRPC_MAX_MESSAGE),
            ("grpc.max_send_message_length", GRPC_MAX_MESSAGE),
        ]
    )
    pb_grpc.add_ExternalProcessorServicer_to_server(
        ExternalProcessor(engine, executor, config or ExchangeConfig()), server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    await server.start()
    log.info("ext_proc server listening on %s:%d", host, bound)
    if ready is not None:
        ready.set_result(bound)
    try:
        await server.wait_for_termination()
    finally:
        await server.stop(grace=2)
        executor.shutdown(wait=False, cancel_futures=True)

"""An in-process Doppel server (swappable engine and config) behind a real Envoy, in front of
the echo provider: for tests that need to change Doppel's behaviour while Envoy stays up."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine import Engine
from extproc import envoy_config
from extproc.config import Config
from extproc.echo_provider import Recorder, make_server
from extproc.gateway import envoy_binary, wait_for_listener
from extproc.server import DoppelServer


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
    replicas: list[DoppelServer]  # replica i > 0 serves the routes under /replica<i>/

    def use(self, engine: Engine, **limits: object) -> None:
        config = replace(self.server.config, limits=replace(self.server.config.limits, **limits))
        self.server.reload(config, engine)


def _replica_routes(cfg: dict[str, Any], ports: list[int]) -> None:
    """Replica i > 0 gets its own ext_proc cluster and the routes under /replica<i>/."""
    resources = cfg["static_resources"]
    base = next(c for c in resources["clusters"] if c["name"] == envoy_config.EXTPROC_CLUSTER)
    hcm = resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    vhost = hcm["route_config"]["virtual_hosts"][0]
    openai = next(r for r in vhost["routes"] if r["match"]["prefix"] == "/openai/")
    for i, port in enumerate(ports[1:], start=1):
        cluster = json.loads(json.dumps(base))
        cluster["name"] = cluster["load_assignment"]["cluster_name"] = f"doppel_replica{i}"
        endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
        endpoint["address"]["socket_address"]["port_value"] = port
        resources["clusters"].append(cluster)
        route = json.loads(json.dumps(openai))
        route["match"]["prefix"] = f"/replica{i}/"
        route["typed_per_filter_config"] = {
            "envoy.filters.http.ext_proc": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3."
                "ExtProcPerRoute",
                "overrides": {"grpc_service": {"envoy_grpc": {"cluster_name": cluster["name"]}}},
            }
        }
        vhost["routes"].insert(0, route)


@contextmanager
def rig(
    engine: Engine,
    config: Config,
    tmp: Path,
    *,
    max_body_bytes: int | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    replicas: int = 1,
    vaults: Callable[[], Any] | None = None,
) -> Iterator[Rig]:
    """Start echo provider, Doppel (``config``, port chosen at run time; ``replicas`` of it,
    each with the vault ``vaults()`` makes, else the config's) and Envoy; ``edit`` may change
    the rendered Envoy configuration first."""
    echo, recorder = make_server("127.0.0.1", 0)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    loop = Loop()

    async def start() -> DoppelServer:  # grpc.aio objects belong to the loop that made them
        server = DoppelServer(config, engine, vaults() if vaults else None)
        await server.start()
        return server

    servers = [loop.run(start()) for _ in range(replicas)]
    server = servers[0]
    upstream = envoy_config.Upstream(f"http://127.0.0.1:{echo.server_address[1]}")
    cfg = envoy_config.gateway_config(
        listen_port=0,
        extproc_port=server.port,
        admin_port=0,
        upstreams={name: upstream for name in envoy_config.PROVIDERS},
        max_body_bytes=max_body_bytes or config.limits.max_body_bytes,
    )
    _replica_routes(cfg, [s.port for s in servers])
    if edit is not None:
        edit(cfg)
    path = tmp / "envoy.yaml"
    path.write_text(envoy_config.to_yaml(cfg))
    admin = tmp / "admin"
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
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        port = wait_for_listener(admin, envoy, 30)
        yield Rig(f"http://127.0.0.1:{port}", server, recorder, loop, engine, servers)
    finally:
        envoy.terminate()
        envoy.wait(10)
        for s in servers:
            loop.run(s.stop())
        loop.close()
        echo.shutdown()

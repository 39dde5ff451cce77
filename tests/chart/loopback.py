"""Run a rendered Envoy bootstrap on loopback in front of ``doppel serve`` and the echo
provider: ports are chosen at run time, every process is stopped by its process group."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from extproc.envoy_config import ADMIN_CLUSTER, EXTPROC_CLUSTER
from extproc.gateway import envoy_binary
from tests import processes
from tests.processes import stop

KEY = "doppel-chart-test-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    args: list[str], ready: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[subprocess.Popen[str], str]:
    """Start a doppel command; return it and the last word of its ready line."""
    return processes.start(args, ready, timeout=timeout, env=env, key=KEY)


def for_loopback(
    config: dict[str, Any],
    doppel_port: int,
    admin_port: int,
    tls_files: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Listeners on 127.0.0.1 port 0, admin on ``admin_port``, the ext_proc cluster at the
    local Doppel, certificate paths replaced by ``tls_files`` (old path -> new path)."""
    text = yaml.safe_dump(config)
    for old, new in (tls_files or {}).items():
        text = text.replace(old, new)
    config = yaml.safe_load(text)
    config["admin"]["address"]["socket_address"]["port_value"] = admin_port
    for listener in config["static_resources"]["listeners"]:
        listener["address"]["socket_address"].update(address="127.0.0.1", port_value=0)
    for cluster in config["static_resources"]["clusters"]:
        address = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"][
            "address"
        ]["socket_address"]
        if cluster["name"] == EXTPROC_CLUSTER:
            address.update(address="127.0.0.1", port_value=doppel_port)
        elif cluster["name"] == ADMIN_CLUSTER:
            address["port_value"] = admin_port
    return config


@dataclass
class Envoy:
    proc: subprocess.Popen[bytes]
    admin: str
    ports: dict[str, int]  # listener name -> bound port
    output: str = ""  # what Envoy wrote (access logs included), once it has stopped


def _listeners(admin: str) -> dict[str, int]:
    with urllib.request.urlopen(f"http://{admin}/listeners?format=json", timeout=2) as resp:
        data = json.loads(resp.read())
    return {
        item["name"]: int(item["local_address"]["socket_address"]["port_value"])
        for item in data.get("listener_statuses", [])
    }


def _live(admin: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{admin}/ready", timeout=2) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return False


@contextlib.contextmanager
def run_envoy(config: dict[str, Any], timeout: float = 30) -> Iterator[Envoy]:
    with tempfile.TemporaryDirectory(prefix="doppel-chart-") as tmp:
        path = Path(tmp, "envoy.yaml")
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        admin_path, log = Path(tmp, "admin"), Path(tmp, "envoy.out")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    envoy_binary(),
                    "-c",
                    str(path),
                    "--admin-address-path",
                    str(admin_path),
                    "--disable-hot-restart",
                    "--log-level",
                    "error",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        envoy = None
        try:
            deadline = time.monotonic() + timeout
            expected = {item["name"] for item in config["static_resources"]["listeners"]}
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"envoy exited with {proc.returncode}: {log.read_text()}")
                if time.monotonic() > deadline:
                    raise TimeoutError("envoy did not bind its listeners")
                admin = admin_path.read_text().strip() if admin_path.exists() else ""
                if admin:
                    # LIVE only once every cluster has initialised (first DNS answers included):
                    # before that the listeners are bound but do not accept yet.
                    with contextlib.suppress(OSError, ValueError):
                        ports = _listeners(admin)
                        if expected <= ports.keys() and all(ports.values()) and _live(admin):
                            break
                time.sleep(0.05)
            envoy = Envoy(proc, admin, ports)
            yield envoy
        finally:
            stop(proc)
            if envoy is not None:
                envoy.output = log.read_text()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

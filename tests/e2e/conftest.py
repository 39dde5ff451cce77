"""Real processes: the echo provider and ``doppel gateway`` (Doppel + a real Envoy), on ports
chosen at run time, stopped by process group at the end."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import processes
from tests.processes import stop

LOGS: list[Path] = []  # every log file a started process wrote; scanned for personal data


def start(
    args: list[str], ready_prefix: str, timeout: float = 60
) -> tuple[subprocess.Popen[str], str]:
    """Start a doppel command; its logs (Envoy's included) go to a file the session scans."""
    return processes.start(args, ready_prefix, timeout=timeout, logs=LOGS)


@dataclass
class HTTPResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> HTTPResult:
    req = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return HTTPResult(
                resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
            )
    except urllib.error.HTTPError as err:
        return HTTPResult(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


@dataclass
class Stack:
    gateway: str
    provider: str
    gateway_pid: int

    def received(self) -> list[str]:
        return json.loads(http("GET", self.provider + "/_received").body)

    def reset(self) -> None:
        http("DELETE", self.provider + "/_received")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    provider, provider_url = start(["echo-provider", "--port", "0"], "echo provider listening")
    try:
        gateway, gateway_url = start(
            ["gateway", "--upstream", provider_url, "--port", "0"], "Doppel gateway listening"
        )
        try:
            yield Stack(gateway_url, provider_url, gateway.pid)
        finally:
            stop(gateway)
    finally:
        stop(provider)


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_logs() -> Iterator[None]:
    """After the whole end-to-end run, no log line Doppel or Envoy wrote holds an original."""
    yield
    from tests.e2e import test_gateway, test_providers

    originals = set(test_gateway.PERSONAL.values()) | set(test_providers.PERSONAL)
    lines = 0
    for path in LOGS:
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lines += 1
            leaked = [v for v in originals if v in line]
            assert not leaked, f"{path.name}:{number} holds personal data"
        shutil.rmtree(path.parent, ignore_errors=True)
    if LOGS:  # processes were started: they must have logged, or the scan proves nothing
        assert lines > 0, "the gateway logged nothing"

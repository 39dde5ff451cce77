"""Start `doppel` commands for tests and benchmarks-in-tests: wait for their ready line, stop them
by process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DOPPEL = str(Path(sys.executable).with_name("doppel"))
TEST_KEY = "doppel-e2e-key"


def start(
    args: list[str],
    ready_prefix: str,
    *,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    key: str = TEST_KEY,
    logs: list[Path] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Start a doppel command; return it and the last word of the line it prints once ready.

    With ``logs``, it logs at INFO to a file (Envoy's output included) whose path is appended
    there, so a caller can scan it; without, its stderr is discarded."""
    full_env = {**os.environ, "DOPPEL_KEY": key, **(env or {})}
    log_path = None
    if logs is not None:
        log_path = Path(tempfile.mkdtemp(prefix="doppel-e2e-")) / f"{args[0]}.log"
        logs.append(log_path)
        args = ["--verbose", *args]
    with log_path.open("w") if log_path else contextlib.nullcontext(subprocess.DEVNULL) as err:
        proc = subprocess.Popen(
            [DOPPEL, *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=full_env,
            start_new_session=True,
        )
    name = next(a for a in args if not a.startswith("-"))
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            tail = log_path.read_text()[-2000:] if log_path else ""
            raise RuntimeError(f"{name} exited early ({proc.wait()}): {tail}")
        if line.startswith(ready_prefix):
            return proc, line.split()[-1]
    stop(proc)
    raise TimeoutError(f"{name} did not print {ready_prefix!r}")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

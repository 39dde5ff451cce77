"""Closed-loop load through the gateway: N clients, each sending OpenAI chat requests full of
personal data back to back (a share of them streamed), for a fixed time. Counts errors, checks
every answer came back restored, and samples the RSS of Doppel + Envoy.

    python -m bench.load --concurrency 200 --seconds 120     # writes bench/reports/load.md

It starts its own echo provider and gateway unless ``--gateway``/``--provider`` are given.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROMPT = (
    "Customer jane.doe@acme-corp.com (card 4539 1488 0343 6467, IBAN DE89 3704 0044 0532 "
    "0130 00, phone +1 415-555-0134) asks for a refund. Draft a short, polite reply. "
)
REPORT = Path(__file__).parent / "reports" / "load.md"


@dataclass
class Stats:
    ok: int = 0
    errors: int = 0
    wrong: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)  # status or exception, and code
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "?"


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _answer_text(body: bytes, stream: bool) -> str:
    if not stream:
        return json.loads(body)["choices"][0]["message"]["content"]
    text = ""
    for block in body.decode().split("\n\n"):
        if block.startswith("data: {"):
            text += json.loads(block[6:])["choices"][0]["delta"].get("content") or ""
    return text


def client(url: str, deadline: float, stats: Stats, stream_every: int, index: int) -> None:
    conn = _connection(url)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        stream = stream_every > 0 and (n + index) % stream_every == 0
        text = f"{PROMPT}Ticket {index}-{n}."  # unique: every request pays for detection
        body = json.dumps(
            {
                "model": "gpt-4o-mini",
                "stream": stream,
                "messages": [{"role": "user", "content": text}],
            }
        ).encode()
        started = time.perf_counter()
        try:
            conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            good = resp.status == 200 and _answer_text(data, stream) == text
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            conn.close()
            conn = _connection(url)
            with stats.lock:
                stats.errors += 1
                stats.error_kinds["connection"] += 1
            continue
        with stats.lock:
            stats.latencies.append(time.perf_counter() - started)
            if resp.status != 200:
                stats.errors += 1
                stats.error_kinds[f"{resp.status} {_error_code(data)}"] += 1
            elif not good:
                stats.wrong += 1
            else:
                stats.ok += 1
    conn.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Doppel and its Envoy), in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def run_load(
    url: str, concurrency: int, seconds: float, pid: int | None, stream_every: int = 4
) -> dict[str, object]:
    stats = Stats()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(url, deadline, stats, stream_every, i), daemon=True)
        for i in range(concurrency)
    ]
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if pid:
            samples.append((round(time.monotonic() - start, 1), rss_mb(pid)))
        time.sleep(min(1.0, max(0.1, seconds / 20)))
    for t in threads:
        t.join()
    lat = sorted(stats.latencies)
    pct = (
        (lambda q: round(lat[min(len(lat) - 1, int(len(lat) * q))] * 1000, 1))
        if lat
        else (lambda q: None)
    )
    third = max(1, len(samples) // 3)
    return {
        "concurrency": concurrency,
        "seconds": seconds,
        "ok": stats.ok,
        "errors": stats.errors,
        "wrong": stats.wrong,
        "error_kinds": dict(stats.error_kinds),
        "rps": round(stats.ok / seconds, 1),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "rss_mb_first_third": round(statistics.mean(r for _, r in samples[:third]), 1)
        if samples
        else None,
        "rss_mb_last_third": round(statistics.mean(r for _, r in samples[-third:]), 1)
        if samples
        else None,
        "rss_samples": samples,
    }


def _start(args: list[str], prefix: str) -> tuple[subprocess.Popen[str], str]:
    doppel = str(Path(sys.executable).with_name("doppel"))
    proc = subprocess.Popen(
        [doppel, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env={**os.environ, "DOPPEL_KEY": "bench-load-key"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return proc, line.split()[-1]
    raise RuntimeError(f"{args[0]} did not start")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--seconds", type=float, default=120)
    args = p.parse_args()
    provider, provider_url = _start(["echo-provider", "--port", "0"], "echo provider")
    gateway, url = _start(
        ["gateway", "--upstream", provider_url, "--port", "0"], "Doppel gateway listening"
    )
    try:
        result = run_load(url, args.concurrency, args.seconds, gateway.pid)
    finally:
        for proc in (gateway, provider):
            proc.terminate()
            proc.wait(15)
    lines = [
        "# Load test",
        "",
        f"`python -m bench.load --concurrency {args.concurrency} --seconds {args.seconds:g}`: "
        "closed loop, 1 in 4 requests streamed, OpenAI chat with 4 entities per prompt, "
        "gateway + echo provider on loopback, 2 cores shared by load generator and gateway.",
        "",
        "| concurrency | ok | errors | not restored | req/s | p50 ms | p99 ms | RSS MB first third"
        " | RSS MB last third |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['concurrency']} | {result['ok']} | {result['errors']} | {result['wrong']} | "
        f"{result['rps']} | {result['p50_ms']} | {result['p99_ms']} | "
        f"{result['rss_mb_first_third']} | {result['rss_mb_last_third']} |",
        "",
        f"Errors by kind: {result['error_kinds'] or 'none'}",
        "",
        "RSS samples (s, MB): " + ", ".join(f"{t:g}:{m:.0f}" for t, m in result["rss_samples"]),
        "",
    ]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines))
    REPORT.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

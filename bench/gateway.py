"""What Doppel costs a caller, measured through the real gateway (Envoy + Doppel) against direct
calls to the echo provider, every comparison interleaved in one run (the machine is shared and
noisy: ratios and differences within a run hold, absolute numbers drift).

    python -m bench.gateway [--quick]     # writes bench/reports/bench.{json,md} and latency.png

Targets, each request sent to all of them in rotating order: ``direct`` (the echo provider),
``floor`` (the same gateway with an engine without detectors: Envoy + a Python ext_proc,
``bench/floor.py``), ``patterns`` (``DOPPEL_MODEL=0``) and ``model`` (the default engine).

Sections:

* latency: 0.5, 2 and 8 KB OpenAI chat requests full of personal data, each text new (so the
  detection cache never hits); p50 / p95 / p99 and the added latency; then the same text again
  (cached detection);
* conversation: 10 turns, each resending the whole history, per-turn added latency, with the
  detection cache and without it (one more gateway with ``DOPPEL_ENGINE_CACHE_SIZE=0``);
* streaming: time to first token of a 1,000-event answer spread over a few seconds
  (``x-echo-stream-seconds``); the delay of every event of a 1,000-event answer from a
  timestamping source (``bench/sse_source.py``, behind each gateway as ``/tsource/``); CPU per
  event with the answer sent at once;
* throughput: closed-loop load at concurrency 1, 8 and 32 with 1 KB prompts: requests/s,
  errors, answers not restored, RSS of Doppel + Envoy;
* Presidio side by side (``bench.presidio``).

Load is generated on loopback only, with TCP_NODELAY, bounded in count and in time. The model
column is left empty when ``engine/model/model.int8.onnx`` is absent.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.load import rss_mb
from bench.workload import (
    CHAT_PATH,
    SYSTEM,
    Client,
    Proc,
    chat_body,
    parse_stream,
    single_turn,
    start,
    text_of,
    turn_text,
)
from extproc.echo_provider import split_text

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "bench" / "reports"
MODEL_FILE = ROOT / "engine" / "model" / "model.int8.onnx"
STREAM_SEED = 7
STREAM_EVENTS = 1000


@dataclass(frozen=True)
class Plan:
    latency_n: dict[int, int]  # size in bytes -> requests per target (new text each)
    cached_n: int  # requests per target and size with one repeated text
    latency_budget_s: float  # at most this long per size (a third of it for the cached case)
    conversations: int
    ttft_n: int  # first tokens per target and case (new prompt / cached prompt)
    stream_reps: int  # whole answers per target from the timestamping source
    stream_seconds: float  # how long the echo provider spreads a 1,000-event answer over
    events_per_second: float  # the timestamping source's rate
    burst_reps: int
    load_seconds: float
    concurrencies: tuple[int, ...]
    sentences: int
    mask_sentences: int
    presidio_prompts: int


FULL = Plan(
    latency_n={512: 300, 2048: 300, 8192: 80},
    cached_n=100,
    latency_budget_s=45.0,
    conversations=12,
    ttft_n=30,
    stream_reps=2,
    stream_seconds=5.0,
    events_per_second=200.0,
    burst_reps=3,
    load_seconds=8.0,
    concurrencies=(1, 8, 32),
    sentences=1500,
    mask_sentences=500,
    presidio_prompts=40,
)
QUICK = Plan(
    latency_n={512: 60, 2048: 60, 8192: 20},
    cached_n=20,
    latency_budget_s=12.0,
    conversations=3,
    ttft_n=8,
    stream_reps=1,
    stream_seconds=3.0,
    events_per_second=400.0,
    burst_reps=1,
    load_seconds=3.0,
    concurrencies=(1, 8, 32),
    sentences=300,
    mask_sentences=100,
    presidio_prompts=10,
)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(-(-q * len(s) // 1)) - 1))]


def summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    return {
        "n": len(values),
        "p50": round(pct(values, 0.50), 2),
        "p95": round(pct(values, 0.95), 2),
        "p99": round(pct(values, 0.99), 2),
        "mean": round(statistics.fmean(values), 2),
        "max": round(max(values), 2),
    }


def quantiles(values: list[float], points: int = 101) -> list[float]:
    """The distribution in ``points`` quantiles (0 %..100 %), for plots and later comparison."""
    if not values:
        return []
    s = sorted(values)
    return [round(s[round(i * (len(s) - 1) / (points - 1))], 3) for i in range(points)]


def rotated(names: list[str], i: int) -> list[str]:
    k = i % len(names)
    return names[k:] + names[:k]


def added(gateway: dict, direct: dict) -> dict[str, float | None]:
    return {
        q: None if gateway[q] is None or direct[q] is None else round(gateway[q] - direct[q], 2)
        for q in ("p50", "p95", "p99")
    }


class Bench:
    def __init__(
        self, plan: Plan, targets: dict[str, str], source: str, log: Callable[[str], None]
    ) -> None:
        self.plan = plan
        self.urls = targets  # name -> base URL; "direct" is the echo provider
        self.clients = {name: Client(url) for name, url in targets.items()}
        self.source = Client(source)  # bench.sse_source, also behind every gateway's /tsource/
        self.log = log

    def _source(self, name: str) -> tuple[Client, str]:
        """The client and path that reach the timestamping SSE source: directly, or through
        a gateway's ``/tsource/`` route."""
        if name == "direct":
            return self.source, CHAT_PATH
        return self.clients[name], "/tsource" + CHAT_PATH

    # ── latency ─────────────────────────────────────────────────────────────────────────────
    def latency(self, names: list[str]) -> dict:
        out: dict = {}
        seed = 1_000_000
        for size, n in self.plan.latency_n.items():
            texts = [text_of(size, seed + i) for i in range(n + 3)]
            seed += 10_000
            budget = self.plan.latency_budget_s
            row = self._interleave(names, texts[3:], warm=texts[:3], budget_s=budget)
            cached_text = texts[0]  # sent once in the warm-up: its detection is cached
            repeats = [cached_text] * self.plan.cached_n
            cached = self._interleave(names, repeats, warm=[], budget_s=budget / 3)
            out[str(size)] = {
                "bytes": round(statistics.fmean(len(single_turn(t)) for t in texts)),
                "text_bytes": round(statistics.fmean(len(t.encode()) for t in texts)),
                "new": row,
                "cached": cached,
            }
            self.log(
                f"latency {size} B: "
                + ", ".join(f"{k} p50 {v['summary']['p50']} ms" for k, v in row["targets"].items())
            )
        return out

    def _interleave(
        self, names: list[str], texts: list[str], warm: list[str], budget_s: float
    ) -> dict:
        """Each text to every target in rotating order; stops early after ``budget_s`` (the
        count actually sent is in the summaries' ``n``)."""
        for text in warm:
            for name in names:
                self.clients[name].post(single_turn(text))
        series: dict[str, list[float | None]] = {name: [] for name in names}
        errors = dict.fromkeys(names, 0)
        wrong = dict.fromkeys(names, 0)
        deadline = time.monotonic() + budget_s
        for i, text in enumerate(texts):
            if time.monotonic() > deadline:
                break
            body = single_turn(text)
            for name in rotated(names, i):
                status, data, seconds = self.clients[name].post(body)
                series[name].append(seconds * 1000 if status == 200 else None)
                errors[name] += status != 200
                wrong[name] += status == 200 and _answer(data) != text
        result: dict = {"targets": {}}
        direct = [v for v in series["direct"]]
        for name in names:
            values = [v for v in series[name] if v is not None]
            entry = {
                "summary": summary(values),
                "errors": errors[name],
                "not_restored": wrong[name],
            }
            if name != "direct":
                d = summary([v for v in direct if v is not None])
                entry["added"] = added(entry["summary"], d)
                paired = [g - x for g, x in zip(series[name], direct) if g and x]
                entry["added_paired"] = summary(paired)
            entry["quantiles"] = quantiles(values)
            result["targets"][name] = entry
        return result

    # ── conversation ────────────────────────────────────────────────────────────────────────
    def conversation(self, names: list[str], turns: int = 10) -> dict:
        per_turn: dict[str, list[list[float]]] = {n: [[] for _ in range(turns)] for n in names}
        body_bytes: list[list[int]] = [[] for _ in range(turns)]
        errors = dict.fromkeys(names, 0)
        wrong = dict.fromkeys(names, 0)
        for c in range(self.plan.conversations):
            history = [{"role": "system", "content": SYSTEM}]
            for t in range(turns):
                text = turn_text(5000 + c, t + 1)
                messages = [*history, {"role": "user", "content": text}]
                body = chat_body(messages)
                body_bytes[t].append(len(body))
                for name in rotated(names, c * turns + t):
                    status, data, seconds = self.clients[name].post(body)
                    if status == 200:
                        per_turn[name][t].append(seconds * 1000)
                        wrong[name] += _answer(data) != text
                    else:
                        errors[name] += 1
                history = [*messages, {"role": "assistant", "content": text}]
        out: dict = {
            "conversations": self.plan.conversations,
            "body_bytes_by_turn": [round(statistics.fmean(b)) for b in body_bytes],
            "errors": errors,
            "not_restored": wrong,
            "targets": {},
        }
        direct = [summary(v) for v in per_turn["direct"]]
        for name in names:
            rows = [summary(v) for v in per_turn[name]]
            entry: dict = {"by_turn": rows}
            if name != "direct":
                entry["added_by_turn"] = [added(r, d) for r, d in zip(rows, direct)]
            out["targets"][name] = entry
        self.log(
            "conversation turn 10 added p50: "
            + ", ".join(
                f"{k} {v['added_by_turn'][-1]['p50']} ms"
                for k, v in out["targets"].items()
                if k != "direct"
            )
        )
        return out

    # ── streaming ───────────────────────────────────────────────────────────────────────────
    def streaming(self, names: list[str]) -> dict:
        plan = self.plan
        spaced = {
            "x-echo-seed": str(STREAM_SEED),
            "x-echo-stream-seconds": str(plan.stream_seconds),
        }
        burst = {"x-echo-seed": str(STREAM_SEED), "x-echo-stream-seconds": "0"}
        errors = dict.fromkeys(names, 0)
        wrong = dict.fromkeys(names, 0)
        # Time to first token: the answer is read up to its first content delta, then dropped.
        ttft: dict[str, dict[str, list[float]]] = {n: {"new": [], "cached": []} for n in names}
        first_delay: dict[str, list[float]] = {n: [] for n in names}
        paced = {
            "x-echo-seed": str(STREAM_SEED),
            "x-events-per-second": str(plan.events_per_second),
        }
        for r in range(plan.ttft_n):
            text = stream_text(20_000 + r)
            # "new": a new long prompt. "cached": the same long prompt again (its detection
            # cached) after a new short message, so the exchange still has new doubles to
            # make and a new restorer to build, as a conversation's next turn has.
            bodies = {
                "new": single_turn(text, stream=True),
                "cached": chat_body(
                    [
                        {"role": "system", "content": SYSTEM},
                        {"role": "user", "content": turn_text(20_000 + r, 1)},
                        {"role": "assistant", "content": "Noted."},
                        {"role": "user", "content": text},
                    ],
                    stream=True,
                ),
            }
            for kind, body in bodies.items():
                for name in rotated(names, r):
                    status, reads = self.clients[name].stream(body, spaced, first_token_only=True)
                    tl = parse_stream(reads)
                    if status != 200 or not tl.times:
                        errors[name] += 1
                        continue
                    ttft[name][kind].append(tl.ttft * 1000)
            # The answer's path alone: from the timestamping source writing the first content
            # event to the client reading it (the request's masking is over by then). Again a
            # new short message before the cached prompt: new doubles, a new restorer.
            path_body = chat_body(
                [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": turn_text(30_000 + r, 1)},
                    {"role": "assistant", "content": "Noted."},
                    {"role": "user", "content": text},
                ],
                stream=True,
            )
            for name in rotated(names, r):
                client, path = self._source(name)
                status, reads = client.stream(path_body, paced, path=path, first_token_only=True)
                tl = parse_stream(reads, started=client.started)
                if status != 200 or not tl.first_content_delay:
                    errors[name] += 1
                    continue
                first_delay[name].append(tl.first_content_delay)
        # Whole answers from the timestamping source, one event per HTTP chunk at an even
        # rate: how long each event takes to reach the client.
        delays: dict[str, list[float]] = {n: [] for n in names}
        durations: dict[str, list[float]] = {n: [] for n in names}
        events: dict[str, list[int]] = {n: [] for n in names}
        texts = [stream_text(9000 + r) for r in range(plan.stream_reps)]
        for r, text in enumerate(texts):
            for name in rotated(names, r):
                client, path = self._source(name)
                status, reads = client.stream(single_turn(text, stream=True), paced, path=path)
                tl = parse_stream(reads, started=client.started)
                if status != 200 or not tl.times:
                    errors[name] += 1
                    continue
                wrong[name] += tl.text != text
                delays[name].extend(tl.delays)
                durations[name].append((tl.times[-1] - tl.times[0]) * 1000)
                events[name].append(tl.events)
        # The same answer at once: CPU per event.
        per_event_us: dict[str, list[float]] = {n: [] for n in names if n != "direct"}
        burst_ms: dict[str, list[float]] = {n: [] for n in names}
        for r in range(plan.burst_reps):
            spans = {}
            for name in rotated(names, r):
                status, reads = self.clients[name].stream(single_turn(texts[0], True), burst)
                tl = parse_stream(reads)
                if status != 200 or not tl.times:
                    errors[name] += 1
                    continue
                spans[name] = tl.times[-1] - tl.times[0]
                burst_ms[name].append(tl.times[-1] * 1000)
            if "direct" in spans:
                for name, seconds in spans.items():
                    if name != "direct":
                        delta = seconds - spans["direct"]
                        per_event_us[name].append(delta / STREAM_EVENTS * 1e6)
        out: dict = {
            "events_per_answer": {n: sorted(set(v)) for n, v in events.items()},
            "text_chars": round(statistics.fmean(len(t) for t in texts)),
            "stream_seconds": plan.stream_seconds,
            "events_per_second": plan.events_per_second,
            "ttft_n": plan.ttft_n,
            "reps": plan.stream_reps,
            "burst_reps": plan.burst_reps,
            "errors": errors,
            "not_restored": wrong,
            "targets": {},
        }
        direct = {k: summary(ttft["direct"][k]) for k in ("new", "cached")}
        direct_delay = summary(delays["direct"])
        direct_first = summary(first_delay["direct"])
        for name in names:
            entry: dict = {
                "ttft_ms_new": summary(ttft[name]["new"]),
                "ttft_ms_cached": summary(ttft[name]["cached"]),
                "stream_ms_median": round(statistics.median(durations[name] or [0]), 1),
                "burst_total_ms_median": round(statistics.median(burst_ms[name] or [0]), 1),
            }
            entry["first_event_delay_ms"] = summary(first_delay[name])
            entry["event_delay_ms"] = summary(delays[name])
            entry["event_delay_quantiles"] = quantiles(delays[name])
            if name != "direct":
                entry["ttft_added_ms_new"] = added(entry["ttft_ms_new"], direct["new"])
                entry["ttft_added_ms_cached"] = added(entry["ttft_ms_cached"], direct["cached"])
                entry["event_added_ms"] = added(entry["event_delay_ms"], direct_delay)
                entry["first_event_added_ms"] = added(entry["first_event_delay_ms"], direct_first)
                entry["per_event_us_burst"] = round(statistics.median(per_event_us[name] or [0]))
            out["targets"][name] = entry
        self.log(
            "streaming TTFT added p50 (new / cached): "
            + ", ".join(
                f"{k} {v['ttft_added_ms_new']['p50']} / {v['ttft_added_ms_cached']['p50']} ms, "
                f"first event +{v['first_event_added_ms']['p50']} ms, "
                f"event delay added p50 {v['event_added_ms']['p50']} p99 "
                f"{v['event_added_ms']['p99']} ms"
                for k, v in out["targets"].items()
                if k != "direct"
            )
        )
        return out

    # ── throughput ──────────────────────────────────────────────────────────────────────────
    def throughput(self, names: list[str], pids: dict[str, int]) -> dict:
        pool = [text_of(1024, 2_000_000 + i) for i in range(400)]
        out: dict = {"prompt_bytes": round(statistics.fmean(len(p.encode()) for p in pool))}
        rows = []
        for concurrency in self.plan.concurrencies:
            for name in names:
                row = closed_loop(
                    self.urls[name], pool, concurrency, self.plan.load_seconds, pids.get(name)
                )
                row.update(target=name, concurrency=concurrency)
                rows.append(row)
                self.log(
                    f"load {name} c={concurrency}: {row['rps']} req/s, "
                    f"{row['errors']} errors, {row['not_restored']} not restored"
                )
        out["rows"] = rows
        return out


def _answer(data: bytes) -> str | None:
    try:
        return json.loads(data)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def stream_text(seed: int) -> str:
    """A long user text the echo provider answers in exactly 1,000 content events (with
    ``x-echo-seed: STREAM_SEED``); it starts with plain words, so the first delta is no part of
    a double that the restorer would have to wait for."""
    text = "Thanks for waiting, here is the summary of the case. " + text_of(7000, seed)
    pieces = split_text(text, random.Random(STREAM_SEED))
    return "".join(pieces[:STREAM_EVENTS])


_RUNS = itertools.count(1)


def closed_loop(
    url: str, pool: list[str], concurrency: int, seconds: float, pid: int | None
) -> dict:
    """``concurrency`` clients, each sending 1 KB prompts back to back until the deadline
    (every text unique, across runs too: a pool text plus a per-run, per-request reference,
    so no run finds its texts in a gateway's detection cache)."""
    run = next(_RUNS)
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0, "not_restored": 0}
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        c = Client(url)
        n = 0
        while time.monotonic() < deadline:
            n += 1
            text = f"{pool[(index * 131 + n) % len(pool)]} Ref {run}-{index}-{n}."
            status, data, took = c.post(single_turn(text))
            with lock:
                if status != 200:
                    counts["errors"] += 1
                    continue
                counts["ok"] += 1
                counts["not_restored"] += _answer(data) != text
                latencies.append(took * 1000)
        c.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    rss: list[float] = []
    started = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if pid:
            rss.append(rss_mb(pid))
        time.sleep(0.25)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        **counts,
        "seconds": round(elapsed, 2),
        "rps": round(counts["ok"] / elapsed, 1),
        "latency_ms": summary(latencies),
        "rss_mb_max": round(max(rss), 1) if rss else None,
        "rss_mb_end": round(rss[-1], 1) if rss else None,
    }


# ── machine, processes, main ────────────────────────────────────────────────────────────────


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mb": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def model_info() -> dict | None:
    if not MODEL_FILE.exists():
        return None
    manifest_path = MODEL_FILE.with_name("manifest.json")
    info: dict = {"file": str(MODEL_FILE.relative_to(ROOT)), "bytes": MODEL_FILE.stat().st_size}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        arch = manifest.get("architecture", {})
        info["layers"] = arch.get("layers")
        info["sha256"] = manifest.get("files", {}).get("model.int8.onnx", {}).get("sha256", "")[:12]
    return info


def sanity(provider: str, urls: dict[str, str]) -> dict[str, bool]:
    """One request per gateway: what reached the provider must not hold the e-mail address,
    and the client must get it back."""
    text = "Write to jane.sanity@example.org or call +1 415-555-0134 about card 4111111111111111."
    out = {}
    for name, url in urls.items():
        if name in ("direct", "floor"):
            continue
        urllib.request.urlopen(urllib.request.Request(provider + "/_received", method="DELETE"))
        status, data, _ = Client(url).post(single_turn(text))
        with urllib.request.urlopen(provider + "/_received") as resp:
            received = "".join(json.loads(resp.read()))
        out[name] = status == 200 and _answer(data) == text and "jane.sanity" not in received
    return out


def clear_provider(provider: str) -> None:
    req = urllib.request.Request(provider + "/_received", method="DELETE")
    urllib.request.urlopen(req).read()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    ap.add_argument(
        "--no-model", action="store_true", help="patterns only, even if the model is there"
    )
    ap.add_argument("--no-presidio", action="store_true", help="skip the Presidio comparison")
    ap.add_argument("--presidio-python", default=None, help="Python of the Presidio venv")
    ap.add_argument("--out", type=Path, default=REPORTS)
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    began = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f}s] {message}", flush=True)

    results: dict = {
        "command": "python -m bench.gateway" + (" --quick" if args.quick else ""),
        "plan": plan.__dict__,
        "machine": machine(),
        "model": None if args.no_model else model_info(),
    }
    with_model = results["model"] is not None
    procs: list[Proc] = []
    try:
        provider = start("echo", ["echo-provider", "--port", "0"], "echo provider", {})
        procs.append(provider)
        source = start("sse", ["-m", "bench.sse_source"], "sse source", {})
        procs.append(source)
        extra = ["--extra-upstream", f"tsource={source.url}"]
        specs = [("patterns", {"DOPPEL_MODEL": "0"})]
        if with_model:
            specs.append(("model", {"DOPPEL_MODEL": "1"}))
            # the same with one onnxruntime thread instead of two: throughput section only
            specs.append(("model_1thread", {"DOPPEL_MODEL": "1", "DOPPEL_MODEL_THREADS": "1"}))
        nocache = "model_nocache" if with_model else "patterns_nocache"
        specs.append(
            (nocache, {"DOPPEL_MODEL": "1" if with_model else "0", "DOPPEL_ENGINE_CACHE_SIZE": "0"})
        )
        gateways = {}
        floor = ["-m", "bench.floor", "--upstream", provider.url, *extra]
        gateways["floor"] = start("floor", floor, "Doppel gateway listening", {})
        procs.append(gateways["floor"])
        for name, env in specs:
            args_ = ["gateway", "--upstream", provider.url, "--port", "0", *extra]
            gateways[name] = start(name, args_, "Doppel gateway listening", env)
            procs.append(gateways[name])
        log("started: " + ", ".join(f"{p.name} {p.url}" for p in procs))
        urls = {"direct": provider.url, **{n: p.url for n, p in gateways.items()}}
        results["sanity"] = sanity(provider.url, urls)
        log(f"sanity (masked on the way out, restored on the way back): {results['sanity']}")
        bench = Bench(plan, urls, source.url, log)
        main_names = ["direct", "floor", "patterns", *(["model"] if with_model else [])]
        results["latency"] = bench.latency(main_names)
        clear_provider(provider.url)
        results["conversation"] = bench.conversation([*main_names, nocache])
        clear_provider(provider.url)
        results["streaming"] = bench.streaming(main_names)
        clear_provider(provider.url)
        pids = {n: p.pid for n, p in gateways.items()}
        results["rss_mb_idle"] = {n: round(rss_mb(pid), 1) for n, pid in pids.items()}
        load_names = [*main_names, *(["model_1thread"] if with_model else [])]
        results["throughput"] = bench.throughput(load_names, pids)
        clear_provider(provider.url)
    finally:
        for proc in reversed(procs):
            proc.stop()
    if not args.no_presidio:
        from bench.presidio import side_by_side

        prompts = [text_of(2048, 3_000_000 + i) for i in range(plan.presidio_prompts)]
        results["presidio"] = side_by_side(
            prompts,
            n_sentences=plan.sentences,
            n_mask=plan.mask_sentences,
            model=with_model,
            python=args.presidio_python,
        )
        log(
            "presidio: "
            + ", ".join(
                f"{k} recall {v['recall']} precision {v['precision']} "
                f"{v['prompts_mask_docs_per_s']} docs/s (2 KB)"
                for k, v in results["presidio"]["engines"].items()
            )
        )
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.monotonic() - began, 1)
    from bench.report import write

    write(results, args.out)
    log(f"wrote {args.out}/bench.json, bench.md, latency.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

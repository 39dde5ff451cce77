"""What the gateway benchmark sends, and how: texts full of personal data (made here with Faker,
never taken from a data set), OpenAI chat bodies, the processes it starts, and a small HTTP
client (one keep-alive connection, TCP_NODELAY) that also reads SSE streams with a timestamp
per read.

Every text is drawn from its own seed, so a benchmark can send a new text on every request and
the gateway's detection cache never hides the cost of detection (the cached case is measured
separately, by sending the same text again).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from faker import Faker

SYSTEM = "You are a helpful support assistant. Answer briefly and politely."
CHAT_PATH = "/v1/chat/completions"
BENCH_KEY = "doppel-bench-key"

# Sentences written for this benchmark: a support desk's notes, with personal data in most of
# them and some technical text between.
Sentence = Callable[[Faker, random.Random], str]


def _s_customer(f: Faker, r: random.Random) -> str:
    return (
        f"Customer {f.name()} ({f.email()}, {f.phone_number()}) opened ticket "
        f"{r.randint(10000, 99999)} on {f.date_this_year().isoformat()} about order "
        f"{r.randint(100, 999)}-{r.randint(1000, 9999)}."
    )


def _s_address(f: Faker, r: random.Random) -> str:
    return (
        f"{f.first_name()} lives at {f.street_address()}, {f.city()} {f.postcode()} and was "
        f"born on {f.date_of_birth(minimum_age=18, maximum_age=90).strftime('%d %B %Y')}."
    )


def _s_payment(f: Faker, r: random.Random) -> str:
    return (
        f"Please refund ${r.randint(10, 2000)}.{r.randint(0, 99):02d} to card "
        f"{f.credit_card_number()} or to IBAN {f.iban()}."
    )


def _s_ids(f: Faker, r: random.Random) -> str:
    return (
        f"Her SSN on file is {f.ssn()}; the last login came from {f.ipv4_public()} "
        f"at {r.randint(0, 23):02d}:{r.randint(0, 59):02d} and looked normal."
    )


def _s_colleague(f: Faker, r: random.Random) -> str:
    return (
        f"Forward the case to {f.name()} at {f.company_email()} or call {f.phone_number()}; "
        f"they work for {f.company()}."
    )


def _s_login(f: Faker, r: random.Random) -> str:
    return (
        f"The portal username is {f.user_name()} and it rejected the password "
        f"{f.password(length=12)} twice."
    )


def _s_tech(f: Faker, r: random.Random) -> str:
    return (
        f"The app crashed with error 0x{r.randint(0, 2**32 - 1):08X} right after the update to "
        f"version {r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}; the logs are attached."
    )


def _s_ask(f: Faker, r: random.Random) -> str:
    return (
        "Draft a short, polite reply that confirms the next steps and keeps it under "
        f"{r.choice([80, 100, 120, 150])} words."
    )


SENTENCES: tuple[Sentence, ...] = (
    _s_customer,
    _s_address,
    _s_payment,
    _s_ids,
    _s_colleague,
    _s_login,
    _s_tech,
    _s_ask,
)
LOCALES = ("en_US", "en_GB")
_fakers: dict[str, Faker] = {}


def _faker(locale: str) -> Faker:
    if locale not in _fakers:
        _fakers[locale] = Faker(locale)
    return _fakers[locale]


def text_of(size: int, seed: int) -> str:
    """About ``size`` bytes (UTF-8, never more) of support notes full of personal data, cut at
    a word boundary; a different ``seed`` gives different people, numbers and order."""
    r = random.Random(seed)
    f = _faker(LOCALES[seed % len(LOCALES)])
    f.seed_instance(seed)
    parts: list[str] = []
    length = 0
    while length <= size:
        sentence = r.choice(SENTENCES)(f, r)
        parts.append(sentence)
        length += len(sentence.encode()) + 1
    text = " ".join(parts).replace("\n", ", ")
    cut = text.encode()[:size].decode("utf-8", "ignore")
    return cut[: cut.rfind(" ")] if " " in cut else cut


def turn_text(seed: int, turn: int) -> str:
    """One user turn of a conversation: a question with two or three sentences of new personal
    data (about 250-400 bytes)."""
    r = random.Random(seed * 100 + turn)
    f = _faker(LOCALES[seed % len(LOCALES)])
    f.seed_instance(seed * 100 + turn)
    picks = [*r.sample(SENTENCES[:6], k=2), r.choice(SENTENCES[6:])]
    return (f"Turn {turn}: " + " ".join(p(f, r) for p in picks)).replace("\n", ", ")


def chat_body(messages: list[dict[str, str]], stream: bool = False) -> bytes:
    body: dict[str, object] = {"model": "gpt-4o-mini", "messages": messages}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def single_turn(text: str, stream: bool = False) -> bytes:
    return chat_body(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}], stream
    )


def answer_text(body: bytes) -> str:
    return json.loads(body)["choices"][0]["message"]["content"]


# ── HTTP ────────────────────────────────────────────────────────────────────────────────────


class Client:
    """One keep-alive HTTP/1.1 connection with TCP_NODELAY (else Nagle adds ~40 ms); it
    reconnects after an error."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self.started = 0.0  # perf_counter() when the last stream was requested

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            conn.connect()
            assert conn.sock is not None
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(
        self, body: bytes, headers: dict[str, str] | None = None, path: str = CHAT_PATH
    ) -> tuple[int, bytes, float]:
        """Status, body and seconds from sending the request to having read the whole answer.
        Status 0: the connection failed."""
        conn = self._connection()
        started = time.perf_counter()
        try:
            conn.request(
                "POST", path, body, {"content-type": "application/json", **(headers or {})}
            )
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b"", time.perf_counter() - started
        return resp.status, data, time.perf_counter() - started

    def stream(
        self,
        body: bytes,
        headers: dict[str, str] | None = None,
        path: str = CHAT_PATH,
        first_token_only: bool = False,
    ) -> tuple[int, list[tuple[float, bytes]]]:
        """Status and the answer as it arrived: (seconds since the request was sent, bytes)
        per read. With ``first_token_only`` it stops at the first non-empty content delta and
        drops the connection (the rest of the answer is not waited for)."""
        conn = self._connection()
        started = self.started = time.perf_counter()
        reads: list[tuple[float, bytes]] = []
        try:
            conn.request(
                "POST", path, body, {"content-type": "application/json", **(headers or {})}
            )
            resp = conn.getresponse()
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                reads.append((time.perf_counter() - started, data))
                if first_token_only and parse_stream(reads).events:
                    self.close()
                    break
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, reads
        return resp.status, reads


@dataclass
class StreamTimeline:
    """The content deltas of a chat completion stream: when each arrived (seconds since the
    request) and how much answer text the client had by then."""

    times: list[float] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)  # cumulative characters of content
    text: str = ""
    events: int = 0  # content events (non-empty delta.content)
    # ms from when the source wrote each event (its id: chatcmpl-<perf_counter_ns>) to its
    # arrival, for every event (``parse_stream(..., started=...)`` and bench.sse_source only)
    delays: list[float] = field(default_factory=list)
    first_content_delay: float | None = None  # the same, for the first content event

    @property
    def ttft(self) -> float:
        return self.times[0]


def parse_stream(reads: list[tuple[float, bytes]], started: float | None = None) -> StreamTimeline:
    timeline = StreamTimeline()
    buffer = b""
    parts: list[str] = []
    total = 0
    for t, data in reads:
        buffer += data
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            if not block.startswith(b"data: {"):
                continue
            event = json.loads(block[6:])
            if started is not None:
                stamp = str(event.get("id", "")).removeprefix("chatcmpl-")
                if stamp.isdigit():
                    timeline.delays.append((started + t - int(stamp) / 1e9) * 1000)
            choices = event.get("choices") or [{}]
            piece = (choices[0].get("delta") or {}).get("content") or ""
            if piece:
                if timeline.first_content_delay is None and timeline.delays:
                    timeline.first_content_delay = timeline.delays[-1]
                parts.append(piece)
                total += len(piece)
                timeline.times.append(t)
                timeline.chars.append(total)
                timeline.events += 1
    timeline.text = "".join(parts)
    return timeline


# ── processes ───────────────────────────────────────────────────────────────────────────────


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[str]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)  # the group this benchmark started
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


def start(
    name: str, args: list[str], ready: str, env: dict[str, str], timeout: float = 120
) -> Proc:
    """Start ``doppel ARGS`` (``ARGS`` itself when it starts with ``-m``: ``python -m ...``) in
    its own process group; wait for the line that starts with ``ready`` and return the URL it
    ends with. Logs (counts and timings only) go to a file."""
    if args[0] == "-m":
        command = [sys.executable, *args]
    else:
        command = [str(Path(sys.executable).with_name("doppel")), *args]
    log = Path(tempfile.mkdtemp(prefix="doppel-bench-")) / f"{name}.log"
    with log.open("w") as err:
        popen = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "DOPPEL_KEY": BENCH_KEY, **env},
            cwd=Path(__file__).resolve().parent.parent,
            start_new_session=True,
        )
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = popen.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} exited ({popen.wait()}): {log.read_text()[-1500:]}")
        if line.startswith(ready):
            return Proc(name, popen, line.split()[-1], log)
    os.killpg(popen.pid, signal.SIGKILL)
    raise TimeoutError(f"{name} did not print {ready!r} within {timeout:.0f}s")

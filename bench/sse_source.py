"""A timestamping stand-in for a streaming LLM: answers ``POST …/chat/completions`` with the last
user text streamed back as OpenAI chat chunks, one SSE event per HTTP chunk (as the real APIs
send them), at an even rate, each event's ``id`` holding the ``perf_counter_ns`` at which it was
written. A client on the same machine (CLOCK_MONOTONIC is shared by all processes) reads how
long each event took to reach it, directly or through the gateway, which leaves ids unchanged.

The echo provider's ``x-echo-stream-seconds`` spaces its writes too, but its pacing drifts by
several percent from one answer to the next on a busy machine, which hides a per-event cost of
a millisecond; stamped events do not depend on the pacing.

    python -m bench.sse_source [--port 0]     # prints "sse source listening on URL"

Headers: ``x-events-per-second`` (default 200), ``x-echo-seed`` (how the text is cut, as the
echo provider does: 1-8 characters per event).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from extproc.echo_provider import last_user_text, split_text


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    obj = {
        "id": f"chatcmpl-{time.perf_counter_ns()}",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "sse-source",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    data = f"data: {json.dumps(obj, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(data), data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        text = last_user_text(json.loads(body))
        rate = float(self.headers.get("x-events-per-second") or 200)
        pieces = split_text(text, random.Random(int(self.headers.get("x-echo-seed") or 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        started = time.perf_counter()
        try:
            self.wfile.write(_chunk({"role": "assistant", "content": ""}))
            for i, piece in enumerate(pieces, 1):
                wait = started + i / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                self.wfile.write(_chunk({"content": piece}))
            self.wfile.write(_chunk({}, "stop"))
            data = b"data: [DONE]\n\n"
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"sse source listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

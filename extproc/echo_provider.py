"""The stand-in LLM provider for demos and tests (there is no internet here).

It speaks the providers' real wire formats, answers with the last user text verbatim, and
records the raw body of every request it receives, so a test can prove what left the gateway.
``GET /_received`` returns those bodies as a JSON array of strings; ``DELETE /_received``
clears them.
"""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Recorder:
    """Thread-safe list of the raw request bodies the provider received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: list[str] = []

    def add(self, body: bytes) -> None:
        with self._lock:
            self._bodies.append(body.decode("utf-8", "replace"))

    def all(self) -> list[str]:
        with self._lock:
            return list(self._bodies)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()


def _text_of(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def last_user_text(request: dict[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def chat_completion(request: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-echo",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "echo"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every answer waits ~40 ms for Nagle
    server_version = "doppel-echo/0.1"
    recorder: Recorder  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # bodies and paths may carry personal data; the recorder is the only record

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/_received":
            self._send_json(200, self.recorder.all())
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_DELETE(self) -> None:
        if self.path == "/_received":
            self.recorder.clear()
            self._send_json(200, [])
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        self.recorder.add(body)
        route = self.path.split("?", 1)[0]
        try:
            request = json.loads(body)
        except ValueError:
            self._send_json(
                400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}}
            )
            return
        if route.endswith("/chat/completions"):
            self._send_json(200, chat_completion(request, last_user_text(request)))
        else:
            self._send_json(
                HTTPStatus.NOT_FOUND,
                {"error": {"message": f"echo provider has no route {route}", "type": "not_found"}},
            )


def make_server(host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, Recorder]:
    recorder = Recorder()
    handler = type("BoundEchoHandler", (EchoHandler,), {"recorder": recorder})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, recorder

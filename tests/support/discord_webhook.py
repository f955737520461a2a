"""A local stand-in for Discord's webhook endpoint (POST /api/webhooks/ID/TOKEN?wait=true),
answering from a script the test writes: 200 with the message, 429 with `retry_after` and
the rate-limit headers, 5xx, 401/404. It records every request and when it came, and takes
JSON or, as Discord does for a message with a file, multipart/form-data (payload_json and
files[n])."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "s3cret-webhook-token"


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


@dataclass
class Seen:
    at: float  # time.monotonic() on arrival
    path: str
    payload: dict[str, Any]
    status: int
    files: dict[str, bytes] = field(default_factory=dict)  # filename -> content


class Webhook:
    def __init__(self) -> None:
        self.script: list[Answer] = []  # answered in order; then 200 with a full bucket
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def answer(self) -> Answer:
        with self.lock:
            return self.script.pop(0) if self.script else Answer()

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """The embeds Discord accepted, in order."""
        return [s.payload["embeds"][0] for s in self.seen if s.status < 300]


def parse(kind: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    if not kind.startswith("multipart/form-data"):
        assert kind == "application/json", kind
        return json.loads(body), {}
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    payload, files = None, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "payload_json":
            payload = json.loads(part.get_payload(decode=True))
        else:
            assert str(name).startswith("files["), name
            files[str(part.get_filename())] = part.get_payload(decode=True)
    assert payload is not None, "multipart without payload_json"
    return payload, files


@contextmanager
def serve() -> Iterator[tuple[str, Webhook]]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            payload, files = parse(self.headers["Content-Type"], body)
            answer = hook.answer()
            if not self.path.startswith(f"/api/webhooks/1/{TOKEN}"):
                answer = Answer(404, body={"message": "Unknown Webhook", "code": 10015})
            with hook.lock:
                hook.seen.append(Seen(time.monotonic(), self.path, payload, answer.status, files))
            body = json.dumps(
                answer.body if answer.body is not None else {"id": "1", "embeds": payload["embeds"]}
            ).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/webhooks/1/{TOKEN}", hook
    finally:
        server.shutdown()
        server.server_close()

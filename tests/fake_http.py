"""A scripted local HTTP server for the CRM and webhook tests: it records every
request and answers from a queue (or a handler function)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None


class FakeHttp:
    def __init__(self, handler: Callable[[Seen], Answer] | None = None):
        self.handler = handler
        self.queue: list[Answer] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    def __enter__(self) -> FakeHttp:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                with fake._lock:
                    fake.seen.append(seen)
                    answer = fake.queue.pop(0) if fake.queue else (fake.handler(seen) if fake.handler else Answer())
                body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body if answer.body is not None else {}).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (answer.headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

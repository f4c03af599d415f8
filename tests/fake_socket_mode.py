"""A fake Slack Socket Mode endpoint: a minimal RFC 6455 websocket server (standard
library only) on 127.0.0.1. Slack's `apps.connections.open` (tests/fake_slack.py)
hands its `ws://` URL to the app; the test sends envelopes down the socket and
reads what the app sends back (acks carry the envelope_id).

Enough of the protocol for slack_sdk's built-in client: the opening handshake,
unfragmented text frames both ways (the client's masked), ping → pong, close.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class FakeSocketMode:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake-ticket"
        self.received: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._listener.close()
        self.hang_up()

    def hang_up(self) -> None:
        """Close the connection from Slack's side."""
        with self._cond:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    # --- what tests use ---------------------------------------------------------------
    def wait_connected(self, timeout: float = 10.0) -> None:
        self._wait(lambda: self._conn is not None, timeout, "no Socket Mode connection")

    def send(self, message: dict[str, Any]) -> None:
        """Slack → app: one envelope as a text frame (servers do not mask)."""
        assert self._conn is not None, "no Socket Mode connection"
        self._send_frame(self._conn, TEXT, json.dumps(message).encode())

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The first message from the app that satisfies `predicate`."""
        found: list[dict[str, Any]] = []

        def match() -> bool:
            found[:] = [m for m in self.received if predicate(m)]
            return bool(found)

        self._wait(match, timeout, f"no such message from the app; received: {self.received}")
        return found[0]

    # --- the server ---------------------------------------------------------------------
    def _wait(self, ready: Callable[[], bool], timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(failure)
                self._cond.wait(left)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed: the test is over
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._handshake(conn)
            with self._cond:
                self._conn = conn
                self._cond.notify_all()
            while True:
                opcode, payload = self._read_frame(conn)
                if opcode == TEXT:
                    with self._cond:
                        self.received.append(json.loads(payload))
                        self._cond.notify_all()
                elif opcode == PING:
                    self._send_frame(conn, PONG, payload)
                elif opcode == CLOSE:
                    self._send_frame(conn, CLOSE, payload[:2])
                    return
        except (OSError, ConnectionError):
            return
        finally:
            conn.close()

    @staticmethod
    def _handshake(conn: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            request += chunk
        headers = dict(line.split(":", 1) for line in request.decode().split("\r\n")[1:] if ":" in line)
        key = {k.strip().lower(): v.strip() for k, v in headers.items()}["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())

    @staticmethod
    def _read_exactly(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read_frame(self, conn: socket.socket) -> tuple[int, bytes]:
        first, second = self._read_exactly(conn, 2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exactly(conn, 2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exactly(conn, 8))
        mask = self._read_exactly(conn, 4) if second & 0x80 else b"\0\0\0\0"
        payload = self._read_exactly(conn, length)
        return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    def _send_frame(self, conn: socket.socket, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length <= 125:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length <= 0xFFFF:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        with self._send_lock:
            conn.sendall(header + payload)

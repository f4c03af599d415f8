"""HTTP mode: a WSGI app (`POST /slack/events`, `GET /healthz`) on waitress.

The door: a body over 1 MiB gets 413 before it is read, a request without a
valid Slack signature 401 before its body is parsed, a signed body that is
not a Slack payload 400 — each logged as one short line without the body.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from slack_bolt import App, BoltRequest

from bot import verify
from storage import events
from storage.db import unit_of_work

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"

Response = tuple[int, list[tuple[str, str]], bytes]
TEXT = ("Content-Type", "text/plain; charset=utf-8")
JSON = ("Content-Type", "application/json")


def wsgi_app(app: App) -> Callable[..., Iterable[bytes]]:
    door = verify.attached(app)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, headers, body = _healthz()
        elif path == EVENTS_PATH and method == "POST":
            status, headers, body = _events(app, door, environ)
        elif path == EVENTS_PATH:
            status, headers, body = _refuse(405, "method not allowed", b"POST only\n", [("Allow", "POST")])
        else:
            status, headers, body = _refuse(404, "unknown path", b"Not Found\n")
        start_response(f"{status} {HTTPStatus(status).phrase}", [*headers, ("Content-Length", str(len(body)))])
        # HEAD: the same headers and no body; a body here would be read as the
        # start of the next response on a keep-alive connection.
        return [] if method == "HEAD" else [body]

    return application


def _refuse(status: int, reason: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> Response:
    verify.log_rejection(status, reason)
    return status, [TEXT, *(headers or [])], body or f"{HTTPStatus(status).phrase}\n".encode()


def _events(app: App, door: verify.Verification | None, environ: dict[str, Any]) -> Response:
    try:
        length = int(environ["CONTENT_LENGTH"]) if environ.get("CONTENT_LENGTH") else None
    except ValueError:
        return _refuse(400, "malformed Content-Length")
    if length is not None and length > verify.MAX_BODY:
        return _refuse(413, "body over 1 MiB")
    timestamp, signature = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE")
    if reason := verify.header_rejection(timestamp, signature):
        return _refuse(401, reason)
    # Without a Content-Length (chunked) the stream ends with the body: read one byte past the limit
    # (waitress stops at the limit itself; this keeps the app bounded under any WSGI server).
    raw = environ["wsgi.input"].read(verify.MAX_BODY + 1 if length is None else length)
    if len(raw) > verify.MAX_BODY:
        return _refuse(413, "body over 1 MiB")
    if door is not None and (reason := door.rejection(raw, timestamp, signature)):
        return _refuse(401, reason)
    try:
        text = raw.decode("utf-8")
        request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=_headers(environ),
                              context={verify.VERIFIED: True} if door is not None else None)
    except Exception as error:  # any way a body fails to parse is the sender's mistake, not ours
        return _refuse(400, f"unreadable body ({type(error).__name__})")
    if not isinstance(request.body, dict) or not request.body:
        return _refuse(400, "not a Slack payload")
    if problem := verify.shape_problem(request.body):
        return _refuse(400, problem)
    response = app.dispatch(request)
    headers = [(k, v) for k, values in response.headers.items() if k.lower() != "content-length" for v in values]
    return response.status, headers, (response.body or "").encode("utf-8")


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key.lower().replace("_", "-"): value for key, value in environ.items() if key in ("CONTENT_LENGTH", "CONTENT_TYPE")}
    headers.update({key[5:].lower().replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")})
    return headers


class _RolledBack(Exception):
    """Raised inside the health check's unit of work so that its write is undone."""


def _healthz() -> Response:
    """200 when the database takes a write (made and rolled back): a read-only
    or full database is as useless to partnerbot as an unreachable one."""
    try:
        with unit_of_work() as session:
            events.probe_write(session=session, probe_id=f"healthz-{uuid.uuid4().hex}", now=datetime.now(timezone.utc))
            raise _RolledBack
    except _RolledBack:
        status, body = 200, {"ok": True, "database": "ok"}
    except Exception as error:  # health checks report, they do not raise
        log.warning("health check: database cannot be written (%s)", type(error).__name__)
        status, body = 503, {"ok": False, "database": "unavailable"}
    return status, [JSON], json.dumps(body).encode()


def _waitress_channel():
    """waitress's own refusals (body over the limit, malformed HTTP) logged like ours: one line."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    class RefusalTask(ErrorTask):
        def execute(self) -> None:
            error = self.request.error
            verify.log_rejection(error.code, error.reason.lower())  # never error.body: it may quote the request
            super().execute()

    class Channel(HTTPChannel):
        error_task_class = RefusalTask

    return Channel


class Server:
    """A waitress server (threaded, production-grade): `run()` serves until `close()`."""

    def __init__(self, app: App, *, host: str = "", port: int = 0, sock: socket.socket | None = None,
                 threads: int = 8, **adjustments: Any):
        from waitress.server import create_server

        # A worker of `serve --workers` serves the listening socket it inherited (sock).
        where = {"sockets": [sock]} if sock is not None else {"host": host, "port": port}
        # waitress refuses a Content-Length over the limit before reading the body,
        # and stops reading a chunked body at the limit (it answers 413 for >= the setting).
        self._server = create_server(wsgi_app(app), **where, threads=threads, ident="partnerbot",
                                     max_request_body_size=verify.MAX_BODY + 1, **adjustments)
        self._server.channel_class = _waitress_channel()
        self._closing = False

    @property
    def effective_port(self) -> int:
        return self._server.effective_port

    def run(self) -> None:
        try:
            self._server.run()
        except OSError:
            # Closing the listening socket wakes the loop with EBADF: that is the way out.
            if not self._closing:
                raise

    def close(self) -> None:
        self._closing = True
        # Requests in flight finish first: a task still answering once the server's wake-up
        # pipe is closed fails there, and waitress logs its traceback.
        self._server.task_dispatcher.shutdown()
        self._server.close()


def make_server(app: App, *, host: str, port: int, **adjustments: Any) -> Server:
    """`adjustments`: more waitress settings (tests poll for shutdown more often)."""
    return Server(app, host=host, port=port, **adjustments)


def serve_workers(settings, *, host: str, port: int, workers: int) -> None:
    """Several waitress processes for machines with more cores: this process binds
    the port and forks the workers, which share the listening socket (the kernel
    hands each connection to one of them); each builds its own Bolt app and
    database pool. SIGTERM or Ctrl-C here stops them all. Unix only (fork)."""
    from bot.app import build_app
    from storage import db

    from views import text

    text.warm_up()  # loaded once here: every forked worker inherits it instead of loading its own
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: serve until SIGTERM, never return into the parent's code
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
                db.engine().dispose(close=False)  # pooled connections from before the fork are the parent's
                server = Server(build_app(settings), sock=listener, threads=settings.server_threads)
                signal.signal(signal.SIGTERM, lambda signum, frame: server.close())
                server.run()
                code = 0
            except BaseException:
                log.exception("web worker %s failed", os.getpid())
            finally:
                os._exit(code)
        children.append(pid)
    listener.close()
    log.info("partnerbot serving on http://%s:%s/slack/events (%d workers)", host, port, workers)

    def stop(signum=None, frame=None) -> None:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    try:
        for child in children:
            while True:
                try:
                    os.waitpid(child, 0)
                    break
                except InterruptedError:
                    continue
    except KeyboardInterrupt:
        stop()
        for child in children:
            os.waitpid(child, 0)

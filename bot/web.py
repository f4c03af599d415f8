"""HTTP mode: a WSGI app (`POST /slack/events`, `GET /healthz`) on waitress."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from storage.db import engine

log = logging.getLogger(__name__)
SERVER_THREADS = 32


def wsgi_app(app: App) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _healthz(start_response)
        if path == "/slack/events":
            if method != "POST":
                start_response("405 Method Not Allowed", [("Allow", "POST"), ("Content-Type", "text/plain")])
                return [b"POST only\n"]
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found\n"]

    return application


def _healthz(start_response: Callable[..., Any]) -> Iterable[bytes]:
    try:
        with engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        status, body = "200 OK", {"ok": True, "database": "ok"}
    except Exception as error:  # health checks report, they do not raise
        log.warning("health check: database unreachable (%s)", type(error).__name__)
        status, body = "503 Service Unavailable", {"ok": False, "database": "unreachable"}
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


class Server:
    """A waitress server (threaded, production-grade): `run()` serves until `close()`."""

    def __init__(self, app: App, *, host: str, port: int):
        from waitress.server import create_server

        self._server = create_server(wsgi_app(app), host=host, port=port, threads=SERVER_THREADS, ident="partnerbot")
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
        self._server.close()
        self._server.task_dispatcher.shutdown()


def make_server(app: App, *, host: str, port: int) -> Server:
    return Server(app, host=host, port=port)


def serve_workers(settings, *, host: str, port: int, workers: int) -> None:
    """Several worker processes (gunicorn, threaded workers) for machines with
    more cores; each worker builds its own Bolt app and database pool."""
    from gunicorn.app.base import BaseApplication

    from bot.app import build_app
    from storage import db

    class Application(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", SERVER_THREADS // 2)
            self.cfg.set("post_fork", lambda server, worker: db.engine().dispose(close=False))
            self.cfg.set("accesslog", None)

        def load(self):
            return wsgi_app(build_app(settings))

    Application().run()

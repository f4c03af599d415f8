"""Fixtures: a real database (SQLite file and PostgreSQL), the real Bolt app driven
by signed requests (in-process, or over real HTTP on waitress for the door's own
tests), and our fake Slack Web API."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from slack_bolt import BoltRequest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.settings import Settings, load_settings
from storage import db as storage_db

# Property tests: reproducible (the same examples on every run and machine), no
# per-example deadline on a busy 2-core CI box, and a bounded default number of
# examples (tests that need more say so). HYPOTHESIS_PROFILE=thorough explores
# further with fresh random examples.
hypothesis.settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50, database=None,
                                     print_blob=True)
hypothesis.settings.register_profile("thorough", deadline=None, max_examples=1000)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

POSTGRES_ENV = "PARTNERBOT_TEST_POSTGRES_URL"
SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"
_pg_state: dict[str, Any] = {}


def pytest_report_header(config) -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return f"databases: SQLite only ({POSTGRES_ENV} is not set, PostgreSQL cases are skipped)"
    return "databases: SQLite and PostgreSQL"


def pytest_terminal_summary(terminalreporter) -> None:
    """Skips in one line per reason (the PostgreSQL half is a hundred cases, not a hundred lines)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"skipped {count}: {reason}")


SECRET_PATTERN = re.compile(r"xox[abpr]-[A-Za-z0-9-]+|" + re.escape(SIGNING_SECRET) + r"|whsec-test|pat-secret-token|tok-very-secret")


class _SecretWatch(logging.Handler):
    """Sees every log record of the whole suite, at every level."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not a leak
            return
        if SECRET_PATTERN.search(message) or (record.exc_text and SECRET_PATTERN.search(record.exc_text)):
            self.leaks.append(f"{record.name}: {message[:200]}")


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_logs():
    """Every log line the suite produces is checked for tokens and secrets."""
    watch = _SecretWatch()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(watch)
    root.setLevel(previous)
    assert not watch.leaks, f"secrets reached the log: {watch.leaks[:5]}"


class FakeClock:
    """Monotonic time that moves only when slept: pacing (jobs/delivery.py) without
    the wait, and every wait on record for the tests that check the pacing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


@pytest.fixture(autouse=True)
def pacing_clock(monkeypatch) -> FakeClock:
    """Every job Sender paces on a fake clock (production: 1 s of real time per post to one channel)."""
    from jobs.delivery import Sender

    clock = FakeClock()
    monkeypatch.setattr(Sender, "clock", clock)
    return clock


@pytest.fixture
def retry_clock(monkeypatch) -> FakeClock:
    """slack_sdk's rate-limit retries wait their Retry-After on a fake clock: on record, not slept."""
    from types import SimpleNamespace

    from slack_sdk.http_retry import builtin_handlers

    clock = FakeClock()
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=clock.sleep))
    return clock


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrate once; each test gets a copy of the migrated file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    storage_db.upgrade(f"sqlite:///{path}")
    storage_db.configure("sqlite://")  # release the template file
    return path


def _worker_schema() -> str:
    """Each pytest-xdist worker has its own schema in the one test database, so
    workers never empty each other's tables; a plain run uses `public`."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"test_{worker}" if re.fullmatch(r"gw\d+", worker) else "public"


def _postgres_url() -> str:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not available: set {POSTGRES_ENV} (.ci/run does)")
    if "url" not in _pg_state:
        from sqlalchemy.engine import make_url

        schema = _worker_schema()
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}) if schema != "public" else make_url(base)
        try:
            probe = create_engine(base)
            with probe.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"'))
            probe.dispose()
        except OperationalError as error:
            pytest.skip(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {error.orig}")
        rendered = url.render_as_string(hide_password=False)
        storage_db.upgrade(rendered)
        _pg_state["url"] = rendered
    return _pg_state["url"]


def _truncate_postgres(url: str) -> None:
    """Empty every table and restart the ids at 1. DELETE, children first, and setval:
    on tables this small that is ~10 ms, where one TRUNCATE of them all took ~0.4 s."""
    engine = storage_db.configure(url)
    with engine.begin() as connection:
        if "tables" not in _pg_state:
            from storage.models import Base

            present = {row[0] for row in connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"))}
            known = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in present]
            _pg_state["tables"] = sorted(present - set(known)) + known
            _pg_state["sequences"] = [row[0] for row in connection.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"))]
        for table in _pg_state["tables"]:
            connection.execute(text(f'DELETE FROM "{table}"'))
        if _pg_state["sequences"]:
            resets = ", ".join(f"setval('\"{name}\"', 1, false)" for name in _pg_state["sequences"])
            connection.execute(text(f"SELECT {resets}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "partnerbot.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        storage_db.configure(url)
        return url
    url = _postgres_url()
    _truncate_postgres(url)
    return url


@pytest.fixture
def session(database_url):
    with storage_db.unit_of_work() as s:
        yield s


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": None,
        "DATABASE_URL": "sqlite://",
        "PARTNERBOT_ADMINS": "UADMIN1",
        "PARTNERBOT_TIMEZONE": "UTC",
        "PARTNERBOT_USERS": "",
        "PARTNERBOT_ROUTES": "",
        "PARTNERBOT_DIGEST_CHANNEL": "",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(DATABASE_URL=database_url)


@pytest.fixture(scope="session")
def fake_slack():
    from tests.fake_slack import FakeSlack

    with FakeSlack(token=BOT_TOKEN) as fake:
        yield fake


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


@dataclass
class SlackApp:
    """The bot driven the way Slack drives it: signed requests, in-process through
    `app.dispatch` (Bolt's own scenario-test pattern, and the same signature check
    in bot/verify.py), or over real HTTP (`url` and `http` set) to test the door."""

    app: Any  # slack_bolt.App
    fake: Any  # tests.fake_slack.FakeSlack
    url: str | None = None
    http: httpx.Client | None = None

    def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        if self.http is not None:
            return self.http.post(self.url + "/slack/events", content=body, headers=all_headers)
        request = BoltRequest(body=body.decode("utf-8"), headers={k.lower(): v for k, v in all_headers.items()})
        response = self.app.dispatch(request)
        return httpx.Response(response.status, headers=[(k, v) for k, values in response.headers.items()
                                                         if k.lower() != "content-length" for v in values],
                              content=(response.body or "").encode("utf-8"))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the work the app started after its acks has finished (no sleeping)."""
        self.app.listener_runner.listener_executor.settle(timeout)

    def slash(self, text: str, *, user: str = "UOWNER1", channel: str = "C0GENERAL") -> tuple[httpx.Response, str]:
        """Send `/partner text`; returns the HTTP response and the response_url used."""
        response_url = self.fake.new_response_url()
        form = {
            "token": "legacy-verification-token",
            "team_id": "T0TEAM",
            "team_domain": "acme-partners",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/partner",
            "text": text,
            "api_app_id": "A0PARTNER",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1234.5678.abcdef",
        }
        body = urllib.parse.urlencode(form).encode()
        return self.post(body, "application/x-www-form-urlencoded"), response_url

    def command(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Send `/partner text` and return the reply the person sees."""
        response, response_url = self.slash(text, **kwargs)
        assert response.status_code == 200, response.text
        return self.answer(response, response_url)

    def answer(self, response: httpx.Response, response_url: str) -> dict[str, Any]:
        """The reply to a slash command: in the ack body (a read-only reply ready at
        once rides it, SPEC §9) or, after an empty ack, posted to the response_url."""
        if response.content:
            body = response.json()
            if body.get("text") or body.get("blocks"):
                return body
        return self.reply_to(response_url)

    def reply_to(self, response_url: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        path = urllib.parse.urlparse(response_url).path
        while time.monotonic() < deadline:
            matches = [c for c in self.fake.responses() if c.path == path]
            if len(matches) >= count:
                return matches[count - 1].args
            time.sleep(0.01)
        raise AssertionError(f"no reply reached {response_url} within {timeout}s")

    def action(self, action_id: str, value: str, *, user: str = "UOWNER1", channel: str = "C0GENERAL") -> tuple[httpx.Response, str]:
        response_url = self.fake.new_response_url()
        payload = {
            "type": "block_actions",
            "team": {"id": "T0TEAM", "domain": "acme-partners"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0TEAM"},
            "api_app_id": "A0PARTNER",
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel, "is_ephemeral": True},
            "trigger_id": "1234.5678.abcdef",
            "channel": {"id": channel, "name": "general"},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": "1700000001.000200",
                    "text": {"type": "plain_text", "text": "x"},
                }
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded"), response_url

    def interactive(self, payload: dict[str, Any]) -> httpx.Response:
        """Any interactivity payload (shortcuts, block_suggestion), form-encoded as Slack sends it."""
        payload = {"team": {"id": "T0TEAM", "domain": "acme-partners"}, "api_app_id": "A0PARTNER",
                   "token": "legacy-verification-token", **payload}
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def submit_view(self, view: dict[str, Any], values: dict[str, Any], *, user: str = "UOWNER1",
                    view_id: str = "V0MODAL", user_team: str = "T0TEAM") -> httpx.Response:
        payload = {
            "type": "view_submission",
            "team": {"id": "T0TEAM", "domain": "acme-partners"},
            "user": {"id": user, "username": user.lower(), "team_id": user_team},
            "api_app_id": "A0PARTNER",
            "token": "legacy-verification-token",
            "trigger_id": "1234.5678.abcdef",
            "view": {**view, "id": view_id, "state": {"values": values}, "hash": "h1"},
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        response = self.post(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200, response.text
        return response

    def event(self, event: dict[str, Any], *, headers: dict[str, str] | None = None, event_id: str | None = None) -> httpx.Response:
        """An Events API delivery; Slack's redeliveries of one event repeat its `event_id`."""
        envelope = {
            "token": "legacy-verification-token",
            "team_id": "T0TEAM",
            "api_app_id": "A0PARTNER",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0TEAM", "user_id": "U0BOT", "is_bot": True}],
        }
        return self.post(json.dumps(envelope).encode(), "application/json", headers)


class _Tracked:
    """The app's listener executor, counting the work still to finish after the ack:
    `SlackApp.settle()` waits for it instead of sleeping."""

    def __init__(self, executor: Any) -> None:
        self._executor = executor
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        with self._idle:
            self._pending += 1
        return self._executor.submit(run)

    def settle(self, timeout: float) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout):
                raise AssertionError(f"listener work still running after {timeout}s")

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        self._executor.shutdown(wait=wait, **kwargs)


def _track(app: Any) -> _Tracked:
    runner = app.listener_runner
    tracked = _Tracked(runner.listener_executor)
    runner.listener_executor = tracked
    runner.lazy_listener_runner.executor = tracked
    return tracked


def _stop(app: Any) -> None:
    """Let the listener threads go (work still running finishes on its own, as before)."""
    app.listener_runner.listener_executor.shutdown(wait=False)


@contextmanager
def serve(app_settings: Settings, fake: Any, *, http: bool = False) -> Iterator[SlackApp]:
    """The real Bolt app talking to the fake Slack: in-process, or with `http` on
    waitress bound to a free port (the door: bot/web.py and its checks)."""
    from bot.app import build_app
    from bot.web import make_server

    fake.reset()
    app_settings = app_settings.model_copy(update={"slack_api_url": fake.api_url})
    app = build_app(app_settings)
    _track(app)
    if not http:
        try:
            yield SlackApp(app, fake)
        finally:
            _stop(app)
        return
    # A short loop timeout: waitress polls for shutdown that often (production: once a second).
    server = make_server(app, host="127.0.0.1", port=0, asyncore_loop_timeout=0.02)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(timeout=10) as client:
            yield SlackApp(app, fake, f"http://127.0.0.1:{server.effective_port}", client)
    finally:
        server.close()
        thread.join(timeout=5)
        _stop(app)


@pytest.fixture
def slack_app(settings, fake_slack):
    with serve(settings, fake_slack) as app:
        yield app


@pytest.fixture
def slack_http(settings, fake_slack):
    """The app behind the real HTTP door (waitress), for tests of the door itself."""
    with serve(settings, fake_slack, http=True) as app:
        yield app


def texts(blocks: list[dict[str, Any]], *, mrkdwn_only: bool = False) -> str:
    """Every text in a block list, joined (for assertions); `mrkdwn_only` keeps the
    texts Slack parses for mentions (plain_text never mentions anyone, SPEC §9)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str) and (not mrkdwn_only or node.get("type") == "mrkdwn"):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(out)


class Quiet:
    """A messenger that accepts everything and records posts (for tests that look at replies)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []

    def post(self, channel, text, blocks, *, thread_ts=None, partner_safe=False):
        from core.messenger import Posted

        self.posts.append((channel, text))
        return Posted(True, channel=channel, ts="1.0")

    def pin(self, channel, ts):
        return True

    def update(self, channel, ts, text, blocks, *, partner_safe=False):
        from core.messenger import Posted

        return Posted(True, channel=channel, ts=ts)

    def permalink(self, channel, ts):
        return None

    def ensure_member(self, channel):
        return None

    def shared_problem(self, channel):
        return None

    def partner_channel_problem(self, channel):
        return None

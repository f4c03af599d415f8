"""The HTTP door under attack: before a request is known to be Slack's, nothing
happens — no outbound call, no database write, no traceback, one short log line.

Through the real door (waitress over HTTP, raw sockets where a client library
would hide the problem), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from slack_bolt import BoltRequest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot.verify import MAX_BODY
from storage import db as storage_db
from tests.conftest import texts, SIGNING_SECRET, serve, sign


@pytest.fixture
def slack_app(slack_http):
    """These tests are about the HTTP door: the app behind real waitress."""
    return slack_http

FORM = "application/x-www-form-urlencoded"
MARKER = "body-marker-7f3a"  # request text that must never reach the log


class Recorder:
    """An HTTP server standing in for any URL an attacker names: it records every request."""

    def __init__(self) -> None:
        recorder = self
        self.requests: list[tuple[str, str, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _record(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append((self.command, self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def row_counts() -> dict[str, int]:
    """Rows in every table the database has (whoever added it)."""
    engine = storage_db.engine()
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def slash_form(response_url: str, command_text: str = "add Evil type:channel") -> bytes:
    return urllib.parse.urlencode({
        "command": "/partner", "text": f"{command_text} {MARKER}", "user_id": "UOWNER1", "team_id": "T0TEAM",
        "channel_id": "C0GENERAL", "response_url": response_url, "trigger_id": "1.2.3",
    }).encode()


def payload_form(response_url: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": "UOWNER1"}, "team": {"id": "T0TEAM"}, "response_url": response_url,
               "trigger_id": "1.2.3", "actions": [{"action_id": "share", "value": f"status {MARKER}", "type": "button"}]}
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def event_json() -> bytes:
    return json.dumps({"type": "event_callback", "team_id": "T0TEAM", "event_id": f"Ev{MARKER}",
                       "event": {"type": "app_home_opened", "user": "UOWNER1", "tab": "home"}}).encode()


def post(slack_app, body: bytes, headers: dict[str, str]):
    return slack_app.http.post(slack_app.url + "/slack/events", content=body, headers=headers)


def no_tracebacks(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text


def finish(slack_app, calls_before: int | None = None) -> None:
    """Let a genuine command through and wait for its reply — anything an earlier
    request set off on the listener threads has had its turn by then — and check
    that Slack received nothing since `calls_before` but what that command caused."""
    response, url = slack_app.slash("help", user="UFINISH1", channel="CFINISH1")
    assert response.status_code == 200
    slack_app.answer(response, url)
    if calls_before is None:
        return
    finishing = {"UFINISH1", "CFINISH1"}
    others = [c for c in slack_app.fake.calls[calls_before:]
              if c.path != urllib.parse.urlsplit(url).path and c.method != "auth.test" and not finishing & set(map(str, c.args.values()))]
    assert others == [], [c.method for c in others]


# --- 1. Before the signature is checked, nothing happens -------------------------------------

@pytest.mark.parametrize("timestamp", ["now", "1e9", "", "1700000000.0", "0x10"])
@pytest.mark.parametrize("shape", ["form", "payload"])
def test_unsigned_request_with_a_bad_timestamp_calls_nobody(slack_app, recorder, caplog, timestamp, shape):
    """The reproduced pre-auth SSRF: the error handler posted to the body's response_url."""
    before = row_counts()
    calls = len(slack_app.fake.calls)
    url = recorder.url(f"ssrf-{shape}")
    body = slash_form(url) if shape == "form" else payload_form(url)
    response = post(slack_app, body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": timestamp,
                                      "X-Slack-Signature": "v0=" + "0" * 64})
    assert response.status_code == 401
    finish(slack_app, calls)
    assert not [r for r in recorder.requests if r[1].startswith(f"/ssrf-{shape}")]
    assert row_counts() == before
    no_tracebacks(caplog)
    assert MARKER not in caplog.text


TIMESTAMPS = st.one_of(
    st.none(),
    st.sampled_from(["now", "1e9", "", "-1", "99999999999999999999", "1700000000.5", " 1", "٣"]),
    st.integers(min_value=-10**6, max_value=10**6).map(lambda delta: str(int(time.time()) + delta)),  # fresh or stale
    st.text(max_size=20),
)
SIGNATURES = st.one_of(
    st.none(),
    st.just(""),
    st.binary(min_size=32, max_size=32).map(lambda b: "v0=" + b.hex()),  # well-formed, wrong
    st.text(max_size=80),
)
CONTENT_TYPES = st.one_of(st.none(), st.sampled_from([FORM, "application/json", "text/plain", "multipart/form-data"]),
                          st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))


@st.composite
def bodies(draw, url: str) -> bytes:
    kind = draw(st.sampled_from(["form", "payload", "event", "bytes", "bad-json", "deep", "array", "utf8", "payload-text",
                                 "payload-scalar", "empty", "newline"]))
    if kind == "form":
        return slash_form(url, draw(st.text(max_size=40)))
    if kind == "payload":
        return payload_form(url)
    if kind == "event":
        return event_json()
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "bad-json":
        return b'{"type": "event_callback", "event": {' + MARKER.encode()
    if kind == "deep":
        return b"[" * draw(st.integers(1000, 100_000))
    if kind == "array":
        return json.dumps([{"response_url": url}]).encode()
    if kind == "utf8":
        return b"payload=" + draw(st.binary(min_size=1, max_size=50)) + b"\xff\xfe" + MARKER.encode()
    if kind == "payload-text":
        return b"payload=not-json-" + MARKER.encode()
    if kind == "payload-scalar":
        return urllib.parse.urlencode({"payload": draw(st.sampled_from(['"a string"', "42", "[1, 2]", "null", "true"]))}).encode()
    if kind == "newline":
        return f"text=x\n2026-01-01 12:00:00 INFO forged {MARKER}\r\nresponse_url={url}".encode()
    return b""


def test_fuzzed_unsigned_and_malformed_requests_get_401_and_do_nothing(slack_app, recorder, caplog):
    """Random headers (non-integer, stale, fresh timestamps; garbage and well-formed wrong
    signatures), random bodies and content types: 401 (413 only over the limit),
    nothing sent to Slack or to the body's response_url, nothing written, no traceback."""
    before = row_counts()
    calls = len(slack_app.fake.calls)
    url = recorder.url("fuzz")

    @hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(timestamp=TIMESTAMPS, signature=SIGNATURES, content_type=CONTENT_TYPES, body=bodies(url),
           retry=st.booleans())
    def attempt(timestamp, signature, content_type, body, retry):
        headers = {"Content-Type": content_type or ""}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        if retry:
            headers["X-Slack-Retry-Num"] = "1"
        # httpx refuses header values it cannot send (control characters): those never reach a server.
        headers = {k: v for k, v in headers.items() if v.isprintable() and v.isascii() and v == v.strip()}
        response = post(slack_app, body, headers)
        assert response.status_code == (413 if len(body) > MAX_BODY else 401), (response.status_code, headers, body[:80])

    attempt()
    finish(slack_app, calls)
    assert [r for r in recorder.requests if r[1] == "/fuzz"] == []
    assert row_counts() == before
    no_tracebacks(caplog)
    assert MARKER not in caplog.text
    assert "forged" not in caplog.text


# --- 2. Bounded bodies, quiet rejections ----------------------------------------------------

def _port(slack_app) -> int:
    return urllib.parse.urlsplit(slack_app.url).port


def _read_status(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def test_two_mib_body_is_413_before_it_is_read(slack_app, caplog):
    """Only the headers and 64 KiB of a 2 MiB body are sent: the answer comes anyway."""
    with socket.create_connection(("127.0.0.1", _port(slack_app)), timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: " + FORM.encode()
                     + b"\r\nContent-Length: " + str(2 * MAX_BODY).encode() + b"\r\n\r\n")
        sock.sendall((MARKER * 4096)[: 64 * 1024].encode())
        assert _read_status(sock).startswith(b"HTTP/1.1 413")
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals == ["request refused (413): request entity too large"]
    assert MARKER not in caplog.text


def test_chunked_body_over_the_limit_is_413(slack_app):
    with socket.create_connection(("127.0.0.1", _port(slack_app)), timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: " + FORM.encode()
                     + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 65536
        try:
            for _ in range(2 * MAX_BODY // len(chunk)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading at the limit and answered
        assert _read_status(sock).startswith(b"HTTP/1.1 413")


def test_body_just_over_the_limit_is_413_and_at_the_limit_is_read(slack_app):
    over = post(slack_app, b"a" * (MAX_BODY + 1), {"Content-Type": FORM})
    assert over.status_code == 413
    at = post(slack_app, b"a" * MAX_BODY, {"Content-Type": FORM, **sign(b"a" * MAX_BODY, secret="wrong")})
    assert at.status_code == 401


def test_chunked_body_without_a_length_is_bounded_in_the_wsgi_app_too(settings, fake_slack):
    """gunicorn (serve --workers) streams bodies to the app: the app reads one byte past the limit, no more."""
    from bot.app import build_app
    from bot.web import wsgi_app
    app = wsgi_app(build_app(settings.model_copy(update={"slack_api_url": fake_slack.api_url})))
    stream = io.BytesIO(b"a" * (2 * MAX_BODY))
    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "CONTENT_TYPE": FORM, "wsgi.input": stream,
               "SERVER_PROTOCOL": "HTTP/1.1", **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in sign(b"a").items()}}
    app(environ, lambda status, headers: statuses.append(status))
    assert [s[:3] for s in statuses] == ["413"]
    assert stream.tell() == MAX_BODY + 1


def test_a_refused_body_with_a_newline_is_one_log_line_without_the_body(slack_app, recorder, caplog):
    """A fresh timestamp and a wrong signature reached Bolt's verification, which logged the body."""
    body = f"command=/partner&text=help\n2026-01-01 12:00:00 INFO partnerbot forged {MARKER}&response_url={recorder.url()}".encode()
    response = post(slack_app, body, {"Content-Type": FORM, **sign(body, secret="not-the-secret")})
    assert response.status_code == 401
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(("bot.", "slack_bolt"))]
    assert messages == ["request refused (401): signature does not match"]
    assert MARKER not in caplog.text and "forged" not in caplog.text


SIGNED_MALFORMED = {
    "bad JSON": (b'{"type": "event_callback", "event": {', "application/json"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "a JSON array": (b'[{"type": "event_callback"}]', "application/json"),
    "payload= not JSON": (b"payload=%7Bnot-json", FORM),
    "payload= a JSON string": (urllib.parse.urlencode({"payload": '"a string"'}).encode(), FORM),
    "payload= a JSON number": (urllib.parse.urlencode({"payload": "42"}).encode(), FORM),
    "payload= a JSON list": (urllib.parse.urlencode({"payload": "[1, 2]"}).encode(), FORM),
    "empty body": (b"", FORM),
    "missing content type": (b'{"type": ', ""),
    "an event that is null": (b'{"type": "event_callback", "event": null}', "application/json"),
    "an event without a type": (b'{"type": "event_callback", "event": {"user": "U1"}}', "application/json"),
    "a form view without a type": (urllib.parse.urlencode({"payload": json.dumps(
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"callback_id": "x"}})}).encode(), FORM),
    "a button without actions": (urllib.parse.urlencode({"payload": json.dumps(
        {"type": "block_actions", "user": {"id": "U1"}, "actions": None})}).encode(), FORM),
    "a user that is a string": (urllib.parse.urlencode({"payload": json.dumps(
        {"type": "shortcut", "callback_id": "ask_a_team", "user": "U1"})}).encode(), FORM),
    "a slash command without a command": (b"text=status&user_id=U1", FORM),
}


@pytest.mark.parametrize("kind", list(SIGNED_MALFORMED))
def test_signed_malformed_body_is_400_without_traceback_or_write(slack_app, caplog, kind):
    body, content_type = SIGNED_MALFORMED[kind]
    before = row_counts()
    response = post(slack_app, body, {"Content-Type": content_type, **sign(body)})
    assert response.status_code == 400
    assert row_counts() == before
    no_tracebacks(caplog)
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()][0].startswith("request refused (400)")


def test_a_body_that_is_not_utf8_cannot_carry_a_signature(slack_app, caplog):
    """slack_sdk's verifier works on text; Slack only sends UTF-8: such a body is refused as unsigned."""
    body = b"payload=\xff\xfe" + MARKER.encode()
    response = post(slack_app, body, {"Content-Type": FORM, **sign(body)})
    assert response.status_code == 401
    no_tracebacks(caplog)


# --- Replies go only to Slack's own response URLs ---------------------------------------------

def test_signed_request_naming_a_foreign_response_url_gets_nothing_posted_there(slack_app, recorder):
    """Even a signed request (a leaked secret, a replay inside five minutes) cannot aim replies elsewhere."""
    body = slash_form(recorder.url("signed-elsewhere"), "help")
    assert post(slack_app, body, {"Content-Type": FORM, **sign(body)}).status_code == 200
    finish(slack_app)
    assert not [r for r in recorder.requests if r[1] == "/signed-elsewhere"]


def test_a_command_naming_a_foreign_response_url_is_answered_in_the_ack(slack_app, recorder, caplog):
    """Nothing is posted to the foreign URL, and the person still gets an answer, without a traceback."""
    body = slash_form(recorder.url("foreign"), "help")
    response = post(slack_app, body, {"Content-Type": FORM, **sign(body)})
    assert response.status_code == 200 and "/partner status" in texts(response.json()["blocks"])
    finish(slack_app)
    assert not [r for r in recorder.requests if r[1] == "/foreign"]
    no_tracebacks(caplog)


def test_socket_mode_replies_only_to_slack_response_urls(settings, fake_slack, recorder, caplog):
    """Socket Mode requests come from Slack itself, and still the reply URL is checked."""
    from bot.app import build_app

    fake_slack.reset()
    app = build_app(settings.model_copy(update={"slack_api_url": fake_slack.api_url}))
    # A write answers at the response_url after the ack (a read-only reply could ride the ack).
    for n, url in enumerate((recorder.url("socket-elsewhere"), fake_slack.new_response_url())):
        body = {"command": "/partner", "text": f"add Socket{n} type:channel", "user_id": "UOWNER1", "team_id": "T0TEAM",
                "channel_id": "C0GENERAL", "response_url": url, "trigger_id": "1.2.3"}
        app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    fake_slack.wait_for_responses(1, timeout=30)
    assert not [r for r in recorder.requests if r[1] == "/socket-elsewhere"]


def test_in_process_dispatch_refuses_unsigned_requests_without_logging_the_body(settings, caplog):
    """The same check, one line in the log, for a request that did not come through the HTTP door."""
    from bot.app import build_app

    app = build_app(settings, verify_token=False)
    body = slash_form("https://hooks.slack.com/commands/T0/1/abc").decode()
    response = app.dispatch(BoltRequest(body=body, headers={"content-type": FORM, **sign(b"other", secret="x")}))
    assert response.status == 401
    assert MARKER not in caplog.text
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == ["request refused (401): signature does not match"]


# --- 3. HEAD: headers, no body ------------------------------------------------------------------

def _read_until(sock: socket.socket, data: bytes, done) -> bytes:
    while not done(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/slack/events", 405), ("/nope", 404)])
def test_head_then_get_on_one_keep_alive_connection(slack_app, path, status):
    """HEAD and GET sent together on one connection: right after the HEAD's headers
    comes the GET's status line, not a body that would be read as one."""
    with socket.create_connection(("127.0.0.1", _port(slack_app)), timeout=10) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: bot\r\n\r\nGET {path} HTTP/1.1\r\nHost: bot\r\n\r\n".encode())
        data = _read_until(sock, b"", lambda d: b"\r\n\r\n" in d)
        head, rest = data.split(b"\r\n\r\n", 1)
        assert head.startswith(f"HTTP/1.1 {status}".encode())
        length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
        rest = _read_until(sock, rest, lambda d: b"\r\n\r\n" in d)
        assert rest.startswith(f"HTTP/1.1 {status}".encode()), rest[:60]
        get_head, body = rest.split(b"\r\n\r\n", 1)
        assert len(_read_until(sock, body, lambda d: len(d) >= length)) == length


# --- 16. /healthz proves the database takes writes ----------------------------------------

def _read_only(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    return parsed.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(hide_password=False)


def test_healthz_is_503_when_the_database_is_read_only(slack_app, database_url, caplog):
    assert slack_app.http.get(slack_app.url + "/healthz").status_code == 200
    storage_db.configure(_read_only(database_url))
    try:
        response = slack_app.http.get(slack_app.url + "/healthz")
        assert response.status_code == 503
        assert response.json() == {"ok": False, "database": "unavailable"}
    finally:
        storage_db.configure(database_url)
    assert slack_app.http.get(slack_app.url + "/healthz").status_code == 200
    assert row_counts().get("seen_events") == 0  # the probe write was rolled back
    no_tracebacks(caplog)


# --- 15. Events are de-duplicated by event_id, not by the retry header -----------------------

def test_first_delivery_with_a_retry_header_is_handled_and_a_repeat_is_not(slack_app):
    home = {"type": "app_home_opened", "user": "UOWNER1", "channel": "D1", "tab": "home", "event_ts": "1.0"}
    retry = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
    # The first delivery never reached us; Slack's retry is the first we see.
    assert slack_app.event(home, event_id="Ev0RETRIED", headers=retry).status_code == 200
    assert slack_app.fake.wait_for("views.publish")[0].args["user_id"] == "UOWNER1"
    assert slack_app.event(home, event_id="Ev0RETRIED", headers={**retry, "X-Slack-Retry-Num": "3"}).status_code == 200
    assert slack_app.event(home, event_id="Ev0RETRIED").status_code == 200
    # Another event, handled: the repeats before it had their turn by then.
    assert slack_app.event({**home, "user": "UOTHER1"}, event_id="Ev0OTHER").status_code == 200
    published = slack_app.fake.wait_for("views.publish", 2)
    assert sorted(c.args["user_id"] for c in published) == ["UOTHER1", "UOWNER1"]

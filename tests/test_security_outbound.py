"""Outbound safety (issue 11): nothing reaches an address nobody checked, the
CRM token stays with the CRM, and secrets and control characters never reach a
log line."""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import select

from core import outbound
from core.settings import SettingsError
from jobs import webhook_delivery
from storage import partners, webhooks
from storage.db import unit_of_work
from storage.models import Partner, WebhookOutbox
from tests.conftest import make_settings

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
HOST = "hooks.partner.example"
PUBLIC = "93.184.215.14"  # a public address; connecting to it is simulated as "refused"


class Listener:
    """A bare TCP server on loopback standing in for an internal service: it
    records every connection and every byte anyone sends it."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    def __enter__(self) -> Listener:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.received.append(conn.recv(65536))
            except OSError:
                self.received.append(b"")
            conn.close()

    def __exit__(self, *exc) -> None:
        self.sock.close()


@pytest.fixture
def dns(monkeypatch):
    """A resolver for HOST whose answers the test scripts, one list per lookup
    (the last repeats); other names resolve normally. Connecting to PUBLIC is
    refused, as if that host were down, so the test never leaves the machine."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    script = {"answers": [[PUBLIC]], "lookups": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOST:
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers = script["answers"]
        answer = answers[min(script["lookups"], len(answers) - 1)]
        script["lookups"] += 1
        port = int(port or 0)
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)) if ":" in ip
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in answer]

    def create_connection(address, *args, **kwargs):
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return script


def hook_settings(url, database_url, **extra):
    hooks = json.dumps([{"url": url, "events": ["*"], "secret": "whsec-test-0123456789"}])
    return make_settings(DATABASE_URL=database_url, PARTNERBOT_WEBHOOKS=hooks, **extra)


def emit_one(settings):
    with unit_of_work() as s:
        partner = partners.create(session=s, name="Acme", type="channel", tier=None, owner_id="U1", stage="active",
                                  created_by="U1", now=NOW)
        webhooks.emit(session=s, hooks=settings.webhooks, event="deal.registered", partner=s.get(Partner, partner.id),
                      subject={"x": 1}, now=NOW)


def outbox():
    with unit_of_work() as s:
        return list(s.scalars(select(WebhookOutbox)))


# --- item 9: the address connected to is the address checked -------------------------

def test_dns_rebinding_between_check_and_connect_sends_nothing_inside(database_url, dns):
    with Listener() as internal:
        url = f"https://{HOST}:{internal.port}/hook"
        settings = hook_settings(url, database_url)
        outbound.validate(settings)  # start-up: the name resolves to a public address
        # At delivery the attacker's DNS answers "public" once, then "loopback" on every later lookup.
        dns["answers"], dns["lookups"] = [[PUBLIC], ["127.0.0.1"]], 0
        emit_one(settings)
        webhook_delivery.deliver_due(settings=settings, now=NOW)
    assert internal.received == []
    (row,) = outbox()
    assert row.status == "pending" and row.last_error.startswith("network")


def test_rebinding_at_request_time_never_reaches_the_internal_server(dns):
    with Listener() as internal:
        dns["answers"] = [[PUBLIC], ["127.0.0.1"]]
        with pytest.raises((outbound.Refused, httpx.TransportError)):
            outbound.request("POST", f"https://{HOST}:{internal.port}/hook", allow_private=False,
                             headers={"Authorization": "Bearer tok-very-secret"}, content=b'{"secret": 1}')
    assert internal.received == []


def test_one_private_address_among_the_answers_refuses_the_host(dns):
    with Listener() as internal:
        dns["answers"] = [[PUBLIC, "127.0.0.1"]]
        with pytest.raises(outbound.Refused, match=r"private address \(127\.0\.0\.1\)"):
            outbound.request("GET", f"https://{HOST}:{internal.port}/", allow_private=False)
    assert internal.received == []
    assert dns["lookups"] == 1  # resolved once


def test_allow_private_urls_still_reaches_loopback(dns):
    from tests.fake_http import FakeHttp

    with FakeHttp() as server:
        dns["answers"] = [["127.0.0.1"]]
        answer = outbound.request("GET", f"http://{HOST}:{server.server.server_address[1]}/ok", allow_private=True)
        assert answer.status == 200
        (seen,) = server.seen
    assert seen.headers["host"] == f"{HOST}:{server.server.server_address[1]}"  # the name, not the pinned IP


@pytest.mark.parametrize("address", [
    "2002:a00:1::1",                              # 6to4 of 10.0.0.1
    "2002:7f00:1::",                              # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",                          # 6to4 of 169.254.169.254 (cloud metadata)
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",       # Teredo, client 10.0.0.1
    "::ffff:127.0.0.1",                           # IPv4-mapped
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",                         # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",                            # NAT64 of 127.0.0.1
    "::ffff:0:a00:1",                             # IPv4-translated 10.0.0.1
    "::a00:1",                                    # IPv4-compatible 10.0.0.1
    "2606:4700::5efe:c0a8:101",                   # ISATAP, 192.168.1.1
    "64:ff9b:1::808:808",                         # local-use NAT64 prefix
])
def test_ipv6_addresses_carrying_a_private_ipv4_are_refused(address):
    settings = make_settings(PARTNERBOT_WEBHOOKS=json.dumps([{"url": f"https://[{address}]/hook", "events": ["*"], "secret": "s"}]))
    with pytest.raises(SettingsError, match=r"^setting PARTNERBOT_WEBHOOKS\[0\]\.url: .*private"):
        outbound.validate(settings)


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8", "2606:4700:4700::1111"])
def test_ipv6_addresses_carrying_a_public_ipv4_are_allowed(address):
    assert not outbound.forbidden_address(address)


def test_six_to_four_resolution_is_refused_at_connect(dns):
    with Listener() as internal:
        dns["answers"] = [["2002:7f00:1::1"]]
        with pytest.raises(outbound.Refused):
            outbound.request("GET", f"https://{HOST}:{internal.port}/", allow_private=False)
    assert internal.received == []


# --- item 10: the CRM token goes only to the configured origin -------------------------

def json_crm_settings(url, database_url):
    return make_settings(DATABASE_URL=database_url, PARTNERBOT_CRM="json", PARTNERBOT_CRM_URL=url,
                         PARTNERBOT_CRM_TOKEN="tok-very-secret", PARTNERBOT_ALLOW_PRIVATE_URLS="true")


def kpi_rows():
    from storage.models import KpiValue

    with unit_of_work() as s:
        return list(s.scalars(select(KpiValue)))


@pytest.mark.parametrize("elsewhere", ["http://localhost:{other}/steal", "//localhost:{other}/steal", "http://127.0.0.1:{other}/steal"])
def test_json_next_on_another_origin_is_refused_and_gets_no_token(database_url, monkeypatch, elsewhere):
    from jobs.crm import http as crm_http, sync as crm_sync
    from tests.fake_http import Answer, FakeHttp

    monkeypatch.setattr(crm_http, "_sleep", lambda s: None)
    with FakeHttp() as crm, FakeHttp() as other:
        other_port = other.server.server_address[1]
        crm.queue = [Answer(body={"deals": [{"id": "a", "partner": "Acme", "amount": 5, "closed_at": "2026-11-02"}],
                                  "next": elsewhere.format(other=other_port)})]
        with pytest.raises(crm_sync.SyncError) as info:
            crm_sync.sync(settings=json_crm_settings(crm.url + "/deals", database_url), now=NOW)
        assert other.seen == []
        assert crm.seen[0].headers["authorization"] == "Bearer tok-very-secret"
    assert "PARTNERBOT_CRM_URL" in str(info.value) and "tok-very-secret" not in str(info.value)
    assert kpi_rows() == []


def test_json_next_on_the_same_origin_is_followed(database_url):
    from jobs.crm import sync as crm_sync
    from tests.fake_http import Answer, FakeHttp

    with unit_of_work() as s:
        partners.create(session=s, name="Acme", type="channel", tier=None, owner_id="U1", stage="active", created_by="U1", now=NOW)
    with FakeHttp() as crm:
        crm.queue = [Answer(body={"deals": [], "next": "/deals?page=2"}),
                     Answer(body={"deals": [{"id": "a", "partner": "Acme", "amount": 5, "closed_at": "2026-11-02"}], "next": None})]
        report = crm_sync.sync(settings=json_crm_settings(crm.url + "/deals", database_url), now=NOW)
        assert [seen.path for seen in crm.seen] == ["/deals", "/deals?page=2"]
        assert all(seen.headers["authorization"] == "Bearer tok-very-secret" for seen in crm.seen)
    assert report.matched == 1


def test_crm_redirect_is_not_followed_with_the_token(database_url):
    from jobs.crm import sync as crm_sync
    from tests.fake_http import Answer, FakeHttp

    with FakeHttp() as crm, FakeHttp() as other:
        crm.queue = [Answer(302, b"", {"Location": other.url + "/deals"})]
        with pytest.raises(crm_sync.SyncError, match="PARTNERBOT_CRM_URL"):
            crm_sync.sync(settings=json_crm_settings(crm.url + "/deals", database_url), now=NOW)
        assert other.seen == []


# --- item 12: what a CRM says back never reaches a log or an error ------------------------

def test_crm_error_body_is_never_echoed(database_url, caplog):
    import logging

    from jobs.crm import sync as crm_sync
    from tests.fake_http import Answer, FakeHttp

    echo = b'{"error": "unauthorized", "request_headers": {"Authorization": "Bearer tok-very-secret"}}'
    with FakeHttp() as crm, caplog.at_level(logging.DEBUG):
        crm.queue = [Answer(401, echo)]
        with pytest.raises(crm_sync.SyncError) as info:
            crm_sync.sync(settings=json_crm_settings(crm.url + "/deals", database_url), now=NOW)
    assert str(info.value) == "the CRM answered HTTP 401; check PARTNERBOT_CRM_TOKEN"
    for record in caplog.records:
        assert "tok-very-secret" not in record.getMessage() and "tok-very-secret" not in (record.exc_text or "")


# --- item 12: the log filter -------------------------------------------------------------

def scrubbed_logger(fmt="%(levelname)s %(name)s: %(message)s"):
    """A logger of our own with the production filter and format, writing to a buffer
    (it does not propagate, so nothing here reaches the suite-wide secret watch)."""
    import io
    import logging

    from core.redact import Redactor, RedactSecrets, known_secrets

    settings = make_settings(PARTNERBOT_CRM="json", PARTNERBOT_CRM_URL="https://crm.example.com/deals",
                             PARTNERBOT_CRM_TOKEN="crm-token-42x", SLACK_APP_TOKEN="xapp-1-A0-99-abc",
                             PARTNERBOT_WEBHOOKS=json.dumps([{"url": "https://h.example.com/", "events": ["*"],
                                                              "secret": "hook-secret-77"}]))
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(RedactSecrets(Redactor(known_secrets(settings))))
    logger = logging.getLogger(f"test.redact.{id(out)}")
    logger.propagate, logger.level = False, logging.DEBUG
    logger.handlers[:] = [handler]
    records = []
    handler.emit = (lambda emit: lambda record: (records.append(record), emit(record)))(handler.emit)
    return logger, out, records


SECRETS = ("crm-token-42x", "xapp-1-A0-99-abc", "hook-secret-77", "test-signing-secret-0123456789", "xoxb-test-token",
           "xoxp-123-456-other", "tok-very-secret")


def assert_clean(text):
    for secret in SECRETS:
        assert secret not in text


def test_filter_scrubs_secrets_in_message_and_args():
    logger, out, records = scrubbed_logger()
    logger.warning("slack said %s, crm %s, hook %r", "xoxb-test-token", "crm-token-42x", {"secret": "hook-secret-77"})
    logger.info("app token xapp-1-A0-99-abc and a stranger's xoxp-123-456-other; signing test-signing-secret-0123456789")
    logger.info("crm answered %s", "Authorization: Bearer tok-very-secret")
    assert_clean(out.getvalue())
    assert out.getvalue().count("[redacted]") == 7
    assert "Bearer [redacted]" in out.getvalue()
    assert all(not record.args for record in records)


def test_filter_scrubs_tracebacks():
    logger, out, records = scrubbed_logger()
    try:
        raise RuntimeError("CRM refused Bearer tok-very-secret for crm-token-42x")
    except RuntimeError:
        logger.exception("sync failed")
    logger.warning("here", stack_info=True, extra={})
    text = out.getvalue()
    assert "Traceback (most recent call last):" in text and "RuntimeError: CRM refused Bearer [redacted] for [redacted]" in text
    assert_clean(text)
    assert_clean(records[0].exc_text)


def test_filter_scrubs_extra_fields():
    logger, out, records = scrubbed_logger("%(message)s auth=%(auth)s detail=%(detail)s")
    logger.warning("outbound", extra={"auth": "Bearer tok-very-secret", "detail": {"token": "crm-token-42x"}})
    assert out.getvalue().strip() == "outbound auth=Bearer [redacted] detail={'token': '[redacted]'}"
    assert_clean(str(records[0].__dict__))


def test_a_newline_in_a_logged_value_never_starts_a_line():
    logger, out, _ = scrubbed_logger()
    forged = "Acme\nINFO partnerbot: admin UADMIN1 granted\r\x1b[2K\x85\u2028"
    logger.warning("partner %s renamed", forged)
    logger.warning("field", extra={"partner": forged})
    try:
        raise ValueError(f"bad name {forged}")
    except ValueError:
        logger.exception("import failed for %s", forged)
    lines = out.getvalue().splitlines()
    assert lines[0] == "WARNING " + lines[0].split(" ", 1)[1]
    assert lines[0].endswith(r"partner Acme\nINFO partnerbot: admin UADMIN1 granted\r\x1b[2K\x85\u2028 renamed")
    # Every line at the left margin is the start of a record: two warnings and one error.
    assert [line.split(" ", 1)[0] for line in lines if not line.startswith(" ")] == ["WARNING", "WARNING", "ERROR"]
    assert not any(line.startswith("INFO partnerbot") for line in lines)  # in a traceback it stays indented


def test_every_command_installs_the_scrubbing_also_for_foreign_handlers(tmp_path):
    import subprocess
    import sys

    script = (
        "import logging, os, sys\n"
        "from bot.cli import main\n"
        "main(['db', 'upgrade'])\n"
        "gunicorn = logging.getLogger('gunicorn.error')\n"  # a handler that is not ours, as gunicorn sets up
        "gunicorn.propagate = False\n"
        "gunicorn.addHandler(logging.StreamHandler(sys.stdout))\n"
        "gunicorn.error('worker: %s', os.environ['SLACK_BOT_TOKEN'])\n"
        "logging.getLogger('partnerbot').warning('crm said Bearer %s\\nFORGED', os.environ['PARTNERBOT_CRM_TOKEN'])\n"
        "try:\n"
        "    raise RuntimeError(os.environ['SLACK_SIGNING_SECRET'])\n"
        "except RuntimeError:\n"
        "    gunicorn.exception('request failed')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SLACK_BOT_TOKEN": "xoxb-test-token",
           "SLACK_SIGNING_SECRET": "test-signing-secret-0123456789", "PARTNERBOT_CRM": "json",
           "PARTNERBOT_CRM_URL": "https://crm.example.com/deals", "PARTNERBOT_CRM_TOKEN": "tok-very-secret"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=60, check=True)
    output = result.stdout + result.stderr
    assert "worker: [redacted]" in result.stdout and "RuntimeError: [redacted]" in result.stdout
    assert "crm said Bearer [redacted]\\nFORGED" in result.stderr
    assert_clean(output)
    assert not any(line.startswith("FORGED") for line in output.splitlines())

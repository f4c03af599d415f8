"""CRM KPI sync (HubSpot and the JSON source) and outbound webhooks, against local servers."""

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core import outbound
from core.settings import SettingsError
from jobs import webhook_delivery
from jobs.crm import hubspot as crm_hubspot, http as crm_http, sync as crm_sync
from storage import partners, webhooks
from storage.kpis import quarter_attainment, set_kpi
from storage.db import unit_of_work
from storage.models import KpiValue, WebhookOutbox
from tests.conftest import make_settings, texts
from tests.fake_http import Answer, FakeHttp

NOW = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
SECRET = "whsec-test-0123456789"


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(crm_http, "_sleep", lambda s: slept.append(s))
    monkeypatch.setattr(crm_hubspot.HUBSPOT_THROTTLE, "interval", 0.0)
    return slept


def hubspot_settings(url, database_url, **extra):
    return make_settings(DATABASE_URL=database_url, PARTNERBOT_CRM="hubspot", PARTNERBOT_CRM_URL=url,
                         PARTNERBOT_CRM_TOKEN="pat-secret-token", PARTNERBOT_ALLOW_PRIVATE_URLS="true", **extra)


def deal(i, partner, amount, close="2026-11-03T10:00:00Z", home=None):
    props = {"amount": amount, "closedate": close, "hs_is_closed_won": "true", "dealstage": "closedwon", "partner_name": partner}
    if home is not None:
        props["amount_in_home_currency"] = home
    return {"id": str(i), "properties": props}


def page(results, after=None, total=None):
    body = {"total": total if total is not None else len(results), "results": results}
    if after:
        body["paging"] = {"next": {"after": after}}
    return Answer(body=body)


def add(name, type="channel"):
    with unit_of_work() as s:
        return partners.create(session=s, name=name, type=type, tier=None, owner_id="U1", stage="active", created_by="U1", now=NOW).id


def kpis():
    with unit_of_work() as s:
        return sorted((k.partner_id, k.metric, k.month, k.source, k.value) for k in s.scalars(select(KpiValue)))


def test_hubspot_pages_retries_and_matches_names(database_url, no_sleep):
    acme = add("Acme Corp")
    add("Globex")
    with FakeHttp() as hubspot:
        hubspot.queue = [
            Answer(429, {"status": "error"}, {"Retry-After": "2"}),
            page([deal(1, "acme corp.", "1000"), deal(2, "ACME Corporation", None, home="500")], after="2"),
            Answer(500, b"oops"),
            page([deal(3, "Initech", "700"), deal(4, None, "50"), deal(5, "Acme Corp", None)]),
        ]
        report = crm_sync.sync(settings=hubspot_settings(hubspot.url, database_url), now=NOW)
        first = hubspot.seen[0]
        assert first.path == "/crm/v3/objects/deals/search" and first.headers["authorization"] == "Bearer pat-secret-token"
        body = first.json()
        assert body["limit"] == 100 and {"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"} in body["filterGroups"][0]["filters"]
        assert "amount_in_home_currency" in body["properties"] and "partner_name" in body["properties"]
        assert hubspot.seen[2].json()["after"] == "2"
    assert no_sleep[:2] == [2.0, 1.0]  # Retry-After, then 1 s for the 500
    assert (report.deals_seen, report.matched, report.without_partner) == (5, 3, 1)
    assert report.unmatched == {"Initech": 1} and report.without_amount == ["5"]
    assert kpis() == [(acme, "deals", "2026-11", "crm", Decimal(3)), (acme, "revenue", "2026-11", "crm", Decimal("1500.00"))]


def test_rerun_changes_nothing_and_manual_values_win_unless_overwrite(database_url):
    acme = add("Acme")
    with unit_of_work() as s:
        set_kpi(session=s, partner_id=acme, metric="revenue", month="2026-11", value=Decimal(999), user_id="U1", now=NOW)
    with FakeHttp(lambda seen: page([deal(1, "Acme", "1000")]).__class__(body={"total": 1, "results": [deal(1, "Acme", "1000")]})) as hubspot:
        settings = hubspot_settings(hubspot.url, database_url)
        crm_sync.sync(settings=settings, now=NOW)
        before = kpis()
        report = crm_sync.sync(settings=settings, now=NOW)
        assert kpis() == before and report.changes == []
        with unit_of_work() as s:
            attained = quarter_attainment(session=s, partner_id=acme, months=["2026-10", "2026-11", "2026-12"], quarter="2026-Q4")
        assert next(a for a in attained if a.metric == "revenue").actual == Decimal(999)  # manual wins
        crm_sync.sync(settings=settings, now=NOW, overwrite=True)
    assert (acme, "revenue", "2026-11", "manual", Decimal(999)) not in kpis()


def test_dry_run_writes_nothing(database_url):
    add("Acme")
    with FakeHttp(lambda seen: Answer(body={"total": 1, "results": [deal(1, "Acme", "10")]})) as hubspot:
        report = crm_sync.sync(settings=hubspot_settings(hubspot.url, database_url), now=NOW, dry_run=True)
    assert report.values_written == 2 and "Acme revenue 2026-11: — → 10" in report.render()
    assert kpis() == []


def test_failure_part_way_commits_nothing(database_url):
    add("Acme")
    with FakeHttp() as hubspot:
        hubspot.queue = [page([deal(1, "Acme", "10")], after="x")] + [Answer(503, b"down")] * 6
        with pytest.raises(crm_sync.SyncError, match="kept failing"):
            crm_sync.sync(settings=hubspot_settings(hubspot.url, database_url), now=NOW)
    assert kpis() == []


def test_window_over_ten_thousand_is_split(database_url):
    add("Acme")
    windows = []

    def handler(seen):
        filters = {f["propertyName"] + f["operator"]: int(f["value"]) for f in seen.json()["filterGroups"][0]["filters"] if "value" in f and f["propertyName"] == "closedate"}
        span = filters["closedateLT"] - filters["closedateGTE"]
        windows.append(span)
        return Answer(body={"total": 10_001 if span > 40 * 86_400_000 else 1, "results": [deal(len(windows), "Acme", "1")]})

    with FakeHttp(handler):
        pass
    with FakeHttp(handler) as hubspot:
        crm_sync.sync(settings=hubspot_settings(hubspot.url, database_url), now=NOW)
    assert max(windows) > 40 * 86_400_000 and min(windows) <= 40 * 86_400_000 and len(windows) > 2


def test_json_source_with_link_and_ambiguity(database_url):
    acme = add("Acme")
    add("Acme Inc")  # same match key as "Acme": ambiguous
    hooli = add("Hooli")
    with unit_of_work() as s:
        from storage.models import Partner

        s.get(Partner, hooli).crm_id = "HOO-42"
    with FakeHttp() as source:
        source.queue = [
            Answer(body={"deals": [{"id": "a", "partner": "acme", "amount": 100, "closed_at": "2026-11-02", "attribution": "sourced"}],
                         "next": None}),
        ]
        source.handler = None
        source.queue[0].body["next"] = f"{source.url}/page2"
        source.queue.append(Answer(body={"deals": [{"id": "b", "partner": "HOO-42", "amount": 40, "closed_at": "2026-10-05", "attribution": "influenced"}], "next": None}))
        settings = make_settings(DATABASE_URL=database_url, PARTNERBOT_CRM="json", PARTNERBOT_CRM_URL=source.url + "/deals",
                                 PARTNERBOT_CRM_TOKEN="json-token", PARTNERBOT_ALLOW_PRIVATE_URLS="true")
        report = crm_sync.sync(settings=settings, now=NOW)
        assert source.seen[0].headers["authorization"] == "Bearer json-token"
    assert report.ambiguous == {"acme": 1}
    with unit_of_work() as s:
        rows = {(k.partner_id, k.metric, k.attribution): k.value for k in s.scalars(select(KpiValue))}
    assert rows == {(hooli, "revenue", "influenced"): Decimal("40.00"), (hooli, "deals", "influenced"): Decimal(1)}
    assert acme not in {p for p, _, _ in rows}


def test_link_subcommand_pins_partner(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    assert "linked to CRM value `ACME-001`" in texts(slack_app.command("link acme ACME-001", user="UOWNER1")["blocks"])
    assert "Only Acme's owner" in texts(slack_app.command("link acme X", user="USTRANGER")["blocks"])


# --- webhooks ---------------------------------------------------------------------------

def verify(seen, secret=SECRET, tolerance=300):
    """A receiver written from the README recipe."""
    timestamp = seen.headers["x-partnerbot-timestamp"]
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + seen.body, hashlib.sha256).hexdigest()
    return abs(time.time() - int(timestamp)) <= tolerance and hmac.compare_digest(expected, seen.headers["x-partnerbot-signature"])


def hook_settings(url, database_url, events=("*",)):
    hooks = json.dumps([{"url": url, "events": list(events), "secret": SECRET}])
    return make_settings(DATABASE_URL=database_url, PARTNERBOT_WEBHOOKS=hooks, PARTNERBOT_ALLOW_PRIVATE_URLS="true")


def test_stage_change_emits_signed_webhook_via_the_bot(fake_slack, database_url):
    from tests.conftest import serve

    with FakeHttp() as receiver:
        settings = hook_settings(receiver.url + "/hook", database_url, events=["partner.stage_changed"])
        with serve(settings, fake_slack) as app:
            app.command("add Acme type:channel", user="UOWNER1")
            app.command("stage acme active", user="UOWNER1")
            deadline = time.time() + 5
            while not receiver.seen and time.time() < deadline:
                time.sleep(0.05)
    (seen,) = receiver.seen
    assert verify(seen)
    event = seen.json()
    assert event["type"] == "partner.stage_changed" and event["occurred_at"].endswith("Z")
    assert event["data"]["stage"] == {"from": "onboarding", "to": "active"}
    assert event["data"]["partner"]["name"] == "Acme" and event["data"]["partner"]["owner"] == "UOWNER1"
    assert SECRET not in seen.body.decode()


def emit_one(settings, event="deal.registered"):
    pid = add("Acme")
    with unit_of_work() as s:
        from storage.models import Partner

        webhooks.emit(session=s, hooks=settings.webhooks, event=event, partner=s.get(Partner, pid), subject={"x": 1}, now=NOW)


def outbox():
    with unit_of_work() as s:
        return list(s.scalars(select(WebhookOutbox)))


def test_retries_after_receiver_downtime_with_same_id_and_fresh_signature(database_url, monkeypatch):
    later = [0.0]  # seconds the signing clock is ahead of real time
    monkeypatch.setattr(webhook_delivery, "time", SimpleNamespace(time=lambda: time.time() + later[0]))
    with FakeHttp() as receiver:
        receiver.queue = [Answer(503, b"down"), Answer(200, {})]
        settings = hook_settings(receiver.url, database_url)
        emit_one(settings)
        first = webhook_delivery.deliver_due(settings=settings, now=NOW)
        assert (first.sent, first.failed) == (0, 1)
        (row,) = outbox()
        assert row.status == "pending" and row.next_attempt_at == NOW + timedelta(seconds=10)
        assert webhook_delivery.deliver_due(settings=settings, now=NOW + timedelta(seconds=5)).considered == 0
        later[0] = 1.1  # a later attempt carries a later timestamp
        second = webhook_delivery.deliver_due(settings=settings, now=NOW + timedelta(seconds=11))
        assert second.sent == 1
    a, b = receiver.seen
    assert a.body == b.body and json.loads(a.body)["id"] == json.loads(b.body)["id"]
    assert a.headers["x-partnerbot-timestamp"] != b.headers["x-partnerbot-timestamp"]
    assert verify(b) and b.headers["x-partnerbot-signature"].count("v1=") == 1
    assert outbox()[0].status == "delivered"


def test_outbox_survives_restart_and_4xx_is_permanent(database_url):
    settings = hook_settings("http://127.0.0.1:9/unreachable", database_url)
    emit_one(settings)
    assert webhook_delivery.deliver_due(settings=settings, now=NOW).failed == 1  # connection refused
    assert outbox()[0].status == "pending"
    with FakeHttp() as receiver:  # "restart": the receiver is back under a configured URL
        receiver.queue = [Answer(410, b"gone")]
        with unit_of_work() as s:
            s.execute(WebhookOutbox.__table__.update().values(url=receiver.url))
        settings = hook_settings(receiver.url, database_url)
        webhook_delivery.deliver_due(settings=settings, now=NOW + timedelta(minutes=1))
    assert outbox()[0].status == "failed" and "410" in outbox()[0].last_error


def test_dead_after_24_hours(database_url):
    settings = hook_settings("http://127.0.0.1:9/unreachable", database_url)
    emit_one(settings)
    webhook_delivery.deliver_due(settings=settings, now=NOW + timedelta(hours=25))
    assert outbox()[0].status == "dead"


@pytest.mark.parametrize("url, problem", [
    ("http://partners.example.com/hook", "must be https"),
    ("https://localhost/hook", "localhost"),
    ("https://127.0.0.1/hook", "private, loopback"),
    ("https://10.1.2.3/hook", "private, loopback"),
    ("https://169.254.169.254/latest/meta-data", "private, loopback"),
    ("https://[::1]/hook", "private, loopback"),
    ("https://100.64.0.1/hook", "private, loopback"),
])
def test_ssrf_refusals_at_startup(url, problem):
    settings = make_settings(PARTNERBOT_WEBHOOKS=json.dumps([{"url": url, "events": ["*"], "secret": "s"}]))
    with pytest.raises(SettingsError) as info:
        outbound.validate(settings)
    assert str(info.value).startswith("setting PARTNERBOT_WEBHOOKS[0].url:") and problem in str(info.value)


def test_connect_time_check_refuses_private_peer(monkeypatch):
    # DNS said "public" when checked, but the connection landed on loopback (rebinding).
    monkeypatch.setattr(outbound, "check_url", lambda url, **kwargs: None)
    with FakeHttp() as server:
        with pytest.raises(outbound.Refused, match="private address"):
            outbound.request("GET", server.url, allow_private=False)


def test_redirects_are_not_followed(database_url):
    with FakeHttp() as receiver:
        receiver.queue = [Answer(302, b"", {"Location": "http://169.254.169.254/"})]
        settings = hook_settings(receiver.url, database_url)
        emit_one(settings)
        webhook_delivery.deliver_due(settings=settings, now=NOW)
        assert len(receiver.seen) == 1
    assert outbox()[0].status == "failed"


def test_cli_sync_refuses_private_crm_url_exit_2(tmp_path):
    from tests import cli

    env = cli.base_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", PARTNERBOT_CRM="json",
                       PARTNERBOT_CRM_URL="https://192.168.1.10/deals", PARTNERBOT_CRM_TOKEN="tok-very-secret")
    result = cli.run("sync", "crm", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "partnerbot: setting PARTNERBOT_CRM_URL: host 192.168.1.10 is a private, loopback or link-local address"
    assert "tok-very-secret" not in result.stderr


def test_jobs_subcommand_shows_dead_webhooks_and_crm_runs(database_url):
    from bot.dispatch import run_command
    from commands import Caller
    from tests.test_trust import Quiet

    settings = hook_settings("http://127.0.0.1:9/unreachable", database_url)
    emit_one(settings)
    webhook_delivery.deliver_due(settings=settings, now=NOW + timedelta(hours=25))
    reply = run_command("jobs", caller=Caller("UADMIN1"), settings=settings, slack=Quiet())
    body = texts(reply.blocks)
    assert "`webhook-delivery` · never run" in body and "1 dead" in body

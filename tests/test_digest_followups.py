"""Digest v2 follow-ups (#16): `/partner undo` of a KPI keeps the KPI history complete
(what the digest's change and "last quarter as known then" read), the demo's KPI
values carry when they were entered, so its digest shows a believable week, and a
digest stored in the ledger by v1 (with its "meta" totals) is still sent by `retry`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import json

from sqlalchemy import delete, select

from bot.app import web_client
from bot.slack import JobSlack
from jobs.runner import run_job
from storage import demo, digest_figures, kpis, ledger
from storage.db import unit_of_work
from storage.models import KpiHistory, KpiValue, Partner
from tests.conftest import make_settings, texts
from views.digest import digest

UTC = timezone.utc


def history(metric: str) -> list[tuple[Decimal | None, datetime]]:
    with unit_of_work(read_only=True) as s:
        return [(value, at if at.tzinfo else at.replace(tzinfo=UTC)) for value, at in s.execute(
            select(KpiHistory.value, KpiHistory.at).where(KpiHistory.metric == metric).order_by(KpiHistory.id))]


def month_of_history(metric: str) -> str:
    with unit_of_work(read_only=True) as s:
        return s.scalar(select(KpiHistory.month).where(KpiHistory.metric == metric).limit(1))


def known(metric: str, at: datetime | None) -> Decimal:
    with unit_of_work(read_only=True) as s:
        return kpis.quarter_totals(session=s, months=[month_of_history(metric)], at=at)["sourced"][metric]


def test_undoing_a_kpi_change_restores_the_value_in_the_history(slack_app):
    """Undo puts the previous value back as a write of its own: the quarter as known now is
    the restored value, and as known between the change and its undo, the changed one."""
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("kpi acme revenue 10k", user="UOWNER1")
    slack_app.command("kpi acme revenue 12k", user="UOWNER1")
    assert "Undone: set Acme revenue" in texts(slack_app.command("undo", user="UOWNER1")["blocks"])
    card = texts(slack_app.command("status acme", user="UOWNER1")["blocks"])
    assert "$10K" in card and "$12K" not in card, card
    (first, first_at), (changed, changed_at), (restored, restored_at) = history("revenue")
    assert (first, changed, restored) == (10000, 12000, 10000)
    assert first_at <= changed_at <= restored_at
    assert known("revenue", None) == 10000
    assert known("revenue", datetime.now(UTC)) == 10000
    assert known("revenue", changed_at) == 12000  # what a digest run then saw
    assert known("revenue", first_at) == 10000


def test_undoing_a_first_kpi_value_removes_it_in_the_history(slack_app):
    slack_app.command("add Acme type:channel", user="UOWNER1")
    slack_app.command("kpi acme leads 5", user="UOWNER1")
    assert "Undone: set Acme leads" in texts(slack_app.command("undo", user="UOWNER1")["blocks"])
    (written, written_at), (removed, removed_at) = history("leads")
    assert (written, removed) == (5, None) and written_at <= removed_at
    with unit_of_work(read_only=True) as s:
        assert s.scalar(select(KpiValue.id).where(KpiValue.metric == "leads")) is None
    assert known("leads", datetime.now(UTC)) == 0
    assert known("leads", written_at) == 5  # it was there until the undo


NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # a Wednesday: the digest reports 23–29 November


def test_the_demo_digest_shows_a_week_of_change_not_the_whole_quarter(settings):
    """The demo's values were entered month by month (capped at the seed's time): the
    digest's change on the week is part of the quarter, and the same week last quarter
    had figures of its own."""
    with unit_of_work() as s:
        s.execute(delete(Partner))
        demo.seed(session=s, partners=40, seed=1, now=NOW)
    with unit_of_work(read_only=True) as s:
        entered = [at if at.tzinfo else at.replace(tzinfo=UTC) for at in s.scalars(select(KpiValue.updated_at))]
        figures = digest_figures.collect(session=s, now=NOW, settings=settings.model_copy(update={"digest_channel": "C0D"}))
    assert max(entered) <= NOW and min(entered) < NOW - timedelta(days=300)
    for metric in ("revenue", "leads"):
        line = next(f for f in figures.kpis if f.metric == metric)
        assert 0 < line.sourced - line.week_ago < line.sourced / 2, line
        assert line.last_quarter > 0, line
    body = texts(digest(figures, currency="USD", admins=[])[1])
    assert "same week last quarter $0" not in body, body


def test_a_v1_digest_left_in_the_ledger_is_still_sent(database_url, fake_slack):
    """v1 kept its totals in the ledger payload ("meta"); Notification no longer has
    them, and a row stored then (claimed, then the process died) still goes out once."""
    fake_slack.reset()
    job_settings = make_settings(DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url)
    claimed = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    payload = {"text": "Partner digest · week 2026-W48", "blocks": [], "thread_ts": None, "thread_of": None,
               "meta": {"revenue": "717000", "leads": "536"}, "update_ts": None, "link": False, "link_to": None,
               "link_to_sent": None, "partner_id": None, "pin": False}
    with unit_of_work() as s:
        assert ledger.claim(session=s, job="kpi-digest", subject="digest", period="2026-W48", target="C0DIGEST",
                            payload=json.dumps(payload), now=claimed)
    slack = JobSlack(web_client(job_settings), job_settings.zone)
    assert run_job("retry", settings=job_settings, slack=slack, now=claimed + timedelta(minutes=15)).sent == 1
    assert run_job("retry", settings=job_settings, slack=slack, now=claimed + timedelta(minutes=30)).sent == 0
    assert [c.args["text"] for c in fake_slack.calls_to("chat.postMessage")] == ["Partner digest · week 2026-W48"]

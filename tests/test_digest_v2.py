"""Digest v2 (#16): attainment against pace, the change on the week and against the same
week last quarter from the KPI history (with no earlier digest), each owner's row, deals
waiting and who decides, movement, requests — checked against hand-computed fixtures, at
10,000 partners within Block Kit's limits, quiet, and sent once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from bot.app import web_client
from bot.slack import JobSlack
from jobs import kpi_digest
from jobs.base import JobContext
from jobs.runner import run_job
from storage import deals, digest_figures, kpis, onboarding, partners
from storage.db import unit_of_work
from storage.models import DealRegistration, Interaction, KpiHistory, KpiTarget, KpiValue, NotificationLedger, Partner
from tests.conftest import make_settings, texts
from views.digest import digest

UTC = timezone.utc


def at(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


@pytest.fixture
def job_settings(database_url, fake_slack):
    fake_slack.reset()
    return make_settings(DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST")


def add(name: str, *, owner: str = "UOWNER1", stage: str = "active", type: str = "channel", created: datetime = at(2025, 1, 1)) -> int:
    with unit_of_work() as s:
        return partners.create(session=s, name=name, type=type, tier=None, owner_id=owner, stage=stage,
                               created_by=owner, now=created).id


def kpi(pid: int, month: str, value: str, when: datetime, *, metric: str = "revenue", source: str = "manual",
        attribution: str = "sourced") -> None:
    with unit_of_work() as s:
        kpis.set_kpi(session=s, partner_id=pid, metric=metric, month=month, value=Decimal(value), user_id="U1",
                     now=when, source=source, attribution=attribution)


def target(pid: int, period: str, value: str, *, metric: str = "revenue") -> None:
    with unit_of_work() as s:
        kpis.set_target(session=s, partner_id=pid, metric=metric, period=period, value=Decimal(value), user_id="U1",
                        now=at(2025, 1, 1))


def collect(settings, now: datetime) -> digest_figures.Digest:
    with unit_of_work(read_only=True) as s:
        return digest_figures.collect(session=s, now=now, settings=settings)


def message(settings, now: datetime):
    """The digest's text and blocks, as the job builds them (without drawing the chart)."""
    return digest(collect(settings, now), currency=settings.currency, admins=list(settings.admins))


def notifications(settings, now: datetime):
    with unit_of_work(read_only=True) as s:
        return kpi_digest.collect(JobContext(session=s, settings=settings, now=now, user_tz=lambda _u: UTC))


def line(body: str, start: str) -> str:
    return next(x for x in body.splitlines() if x.startswith(start))


# --- the week, its quarter and pace -------------------------------------------------------

def test_week_at_a_quarter_boundary_and_in_a_fiscal_year_starting_in_february():
    from zoneinfo import ZoneInfo

    utc = ZoneInfo("UTC")
    # Monday 5 October: the week of 28 September–4 October ends in Q4, four days into it.
    week = digest_figures.week_of(at(2026, 10, 5, 9), zone=utc, fiscal_start=1)
    assert (week.label, week.quarter, week.months) == ("2026-W40", "2026-Q4", ["2026-10"])
    assert week.pace == pytest.approx(4 / 92)
    assert (week.last_quarter, week.last_quarter_end, week.last_quarter_months) == ("2026-Q3", datetime(2026, 7, 5, tzinfo=utc), ["2026-07"])
    # Fiscal year from February: November–January is the fourth quarter; eight of its 92 days gone.
    week = digest_figures.week_of(at(2026, 11, 9, 9), zone=utc, fiscal_start=2)
    assert (week.label, week.quarter, week.months) == ("2026-W45", "2026-Q4", ["2026-11"])
    assert week.pace == pytest.approx(8 / 92)
    assert (week.last_quarter, week.last_quarter_end, week.last_quarter_months) == ("2026-Q3", datetime(2026, 8, 9, tzinfo=utc), ["2026-08"])


# --- KPI figures, from history with no earlier digest --------------------------------------

def test_quarter_boundary_influenced_only_and_same_week_last_quarter_from_history(job_settings):
    acme, beta = add("Acme"), add("Beta", owner="UOWNER2")
    kpi(acme, "2026-07", "10000", at(2026, 7, 3))
    kpi(beta, "2026-07", "5000", at(2026, 7, 4))
    kpi(acme, "2026-07", "12000", at(2026, 7, 20))  # corrected after that point: not what was known then
    kpi(acme, "2026-10", "20000", at(2026, 10, 2))
    kpi(beta, "2026-10", "8000", at(2026, 10, 3), attribution="influenced")  # Beta: influenced only
    target(acme, "2026-Q4", "100000")
    monday = at(2026, 10, 5, 9)
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(NotificationLedger)) == 0  # no earlier digest
    revenue = next(f for f in collect(job_settings, monday).kpis if f.metric == "revenue")
    assert (revenue.sourced, revenue.influenced, revenue.attained, revenue.target) == (20000, 8000, 20000, 100000)
    # The week before ended in the last quarter: this quarter then had nothing.
    assert (revenue.week_ago, revenue.last_quarter) == (0, 15000)
    assert revenue.standing == "on pace"  # 20 % reached, 4 % of the quarter gone
    body = texts(message(job_settings, monday)[1])
    assert ("• *revenue* $20K of $100K (20%) · pace 4%: on pace · influenced $8K · +$20K on the week · "
            "same week last quarter $15K (+33%)") in body, body


def test_change_on_the_week_follows_overwrites_removals_and_precedence(job_settings):
    acme, beta = add("Acme"), add("Beta")
    kpi(acme, "2026-10", "10000", at(2026, 10, 10))
    kpi(acme, "2026-11", "5000", at(2026, 11, 3))
    kpi(acme, "2026-11", "7000", at(2026, 11, 12))  # overwritten this week
    kpi(beta, "2026-10", "1000", at(2026, 10, 5))
    kpi(beta, "2026-10", "3000", at(2026, 10, 5), source="crm")  # manual wins
    kpi(beta, "2026-11", "4000", at(2026, 11, 2), source="crm")
    with unit_of_work() as s:  # removed this week
        kpis.delete_value(session=s, partner_id=beta, metric="revenue", month="2026-11", source="crm",
                          attribution="sourced", now=at(2026, 11, 13))
    kpi(acme, "2026-10", "40", at(2026, 10, 10), metric="adoption")
    kpi(acme, "2026-11", "60", at(2026, 11, 10), metric="adoption")
    kpi(beta, "2026-11", "30", at(2026, 11, 3), metric="adoption")
    monday = at(2026, 11, 16, 9)
    figures = {f.metric: f for f in collect(job_settings, monday).kpis}
    # Now: Acme 10K + 7K, Beta 1K. A week ago (as known on 9 November): Acme 10K + 5K, Beta 1K + 4K.
    assert (figures["revenue"].sourced, figures["revenue"].week_ago) == (18000, 20000)
    # Adoption: each partner's latest month, averaged: now (60 + 30) / 2, then (40 + 30) / 2.
    assert (figures["adoption"].sourced, figures["adoption"].week_ago) == (45, 35)
    body = texts(message(job_settings, monday)[1])
    assert "• *revenue* $18K · no target · −$2K on the week · same week last quarter $0" in body, body
    assert "• *adoption (avg)* 45% · no target · +10 pts on the week" in body
    # Every write and the removal are in the history, an unchanged value is not written again.
    kpi(acme, "2026-11", "7000", at(2026, 11, 20))
    with unit_of_work() as s:
        rows = s.execute(select(KpiHistory.month, KpiHistory.source, KpiHistory.value).where(KpiHistory.partner_id == beta,
                                                                                        KpiHistory.metric == "revenue")
                         .order_by(KpiHistory.id)).all()
        assert [tuple(r) for r in rows] == [("2026-10", "manual", 1000), ("2026-10", "crm", 3000), ("2026-11", "crm", 4000),
                                            ("2026-11", "crm", None)]
        assert s.scalar(select(func.count()).select_from(KpiHistory).where(KpiHistory.partner_id == acme,
                                                                         KpiHistory.month == "2026-11")) == 3


def test_fiscal_year_starting_in_february(database_url, fake_slack):
    settings = make_settings(DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url,
                             PARTNERBOT_DIGEST_CHANNEL="C0DIGEST", PARTNERBOT_FISCAL_YEAR_START="2")
    acme = add("Acme")
    kpi(acme, "2026-10", "50000", at(2026, 10, 10))  # the fiscal quarter before (August–October)
    kpi(acme, "2026-11", "3000", at(2026, 11, 4))
    kpi(acme, "2026-08", "2000", at(2026, 8, 5))
    target(acme, "2026-Q4", "30000")
    figures = {f.metric: f for f in collect(settings, at(2026, 11, 9, 9)).kpis}
    revenue = figures["revenue"]
    assert (revenue.sourced, revenue.attained, revenue.target, revenue.pace) == (3000, 3000, 30000, pytest.approx(8 / 92))
    assert (revenue.week_ago, revenue.last_quarter) == (0, 2000)
    body = texts(message(settings, at(2026, 11, 9, 9))[1])
    assert "*Quarter to date (2026-Q4, 9% of it gone)" in body
    assert "• *revenue* $3K of $30K (10%) · pace 9%: on pace · +$3K on the week · same week last quarter $2K (+50%)" in body


def test_an_empty_quarter_after_a_full_one(job_settings):
    acme = add("Acme")
    kpi(acme, "2026-07", "9000", at(2026, 7, 10))
    kpi(acme, "2026-08", "9000", at(2026, 8, 10))  # not begun at the same point of last quarter (12 July)
    target(acme, "2026-Q4", "50000")
    monday = at(2026, 10, 12, 9)
    revenue = next(f for f in collect(job_settings, monday).kpis if f.metric == "revenue")
    assert (revenue.sourced, revenue.influenced, revenue.attained, revenue.target) == (0, 0, 0, 50000)
    assert (revenue.week_ago, revenue.last_quarter) == (0, 9000)
    body = texts(message(job_settings, monday)[1])
    # 11 of 92 days gone: 12 % expected, none reached.
    assert "• *revenue* $0 of $50K (0%) · pace 12%: *behind* · +$0 on the week · same week last quarter $9K (−100%)" in body, body


def test_a_quiet_week_says_so_in_one_line_and_posts_no_chart(job_settings, fake_slack):
    """Last quarter's figures, a partner in good standing, nothing this week or quarter."""
    acme = add("Acme", stage="prospect")
    kpi(acme, "2026-07", "9000", at(2026, 7, 10))
    with unit_of_work() as s:
        partners.add_interaction(session=s, partner=s.get(Partner, acme), kind="call", summary="x", author_id="U1",
                                 channel_id=None, now=at(2026, 10, 1))
    monday = at(2026, 10, 12, 9)
    result = run_job("kpi-digest", settings=job_settings, slack=JobSlack(web_client(job_settings), job_settings.zone), now=monday)
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.args["text"] == "Partner digest 2026-W41: nothing to report this week."
    assert texts(post.args["blocks"]) == ":bar_chart: *Partner digest 2026-W41*: nothing to report this week."
    assert fake_slack.calls_to("files.getUploadURLExternal") == [] and result.sent == 1


# --- owners, pipeline, movement ------------------------------------------------------------

def test_owners_deals_waiting_and_movement_against_hand_counts(job_settings):
    monday = at(2026, 11, 16, 9)  # the week of 9–15 November
    acme, beta = add("Acme"), add("Beta")
    gamma = add("Gamma", owner="UOWNER2")
    add("Delta", owner="UOWNER2", created=at(2026, 11, 10))  # new this week
    epsilon = add("Epsilon", type="technology", stage="onboarding")
    zeta = add("Zeta", owner="UOWNER2")
    add("Eta", stage="onboarding", created=at(2026, 9, 1))  # stalled: no step done, 76 days at the week's end
    target(acme, "2026-Q4", "100000")
    kpi(acme, "2026-11", "30000", at(2026, 11, 3))
    target(gamma, "2026-Q4", "100000")
    kpi(gamma, "2026-10", "60000", at(2026, 10, 20))
    with unit_of_work() as s:
        g = s.get(Partner, gamma)
        g.stage, g.stage_changed_at = "at-risk", at(2026, 11, 11)
        for step, _label in onboarding.STEPS["technology"]:
            onboarding.mark_step(session=s, partner=s.get(Partner, epsilon), step=step, user_id="U1", now=at(2026, 11, 12))
        partners.add_interaction(session=s, partner=s.get(Partner, zeta), kind="call", summary="x", author_id="U1",
                                 channel_id=None, now=at(2026, 10, 12))  # 30 days quiet on 11 November
        partners.add_interaction(session=s, partner=s.get(Partner, acme), kind="call", summary="x", author_id="U1",
                                 channel_id=None, now=at(2026, 11, 12))
        for pid, customer, amount, when, status in ((acme, "Initech", "20000", at(2026, 11, 10), "registered"),
                                                    (beta, "Initech", "5000", at(2026, 11, 11), "conflict"),
                                                    (gamma, "Hooli", "7000", at(2026, 11, 1), "review"),
                                                    (acme, "Old Co", "1000", at(2026, 7, 1), "registered")):
            deal = deals.register_deal(session=s, partner_id=pid, customer=customer, customer_key=customer.casefold(),
                                       amount=Decimal(amount), attribution="sourced", conflict_with_id=None, user_id="U1", now=when)
            deal.status = status
    d = collect(job_settings, monday)
    body = texts(message(job_settings, monday)[1])
    # UOWNER1: Acme 30 % of target at 50 % of the quarter; UOWNER2: Gamma 60 %, ahead. Furthest behind first.
    assert [o.owner_id for o in d.owners] == ["UOWNER1", "UOWNER2"]
    assert "• <@UOWNER1> · 4 partners · revenue 30% of target (pace 50%): *behind* · 2 QBRs overdue" in body, body
    assert "• <@UOWNER2> · 3 partners · revenue 60% of target (pace 50%) · 1 at risk · 2 QBRs overdue" in body
    p = d.pipeline
    assert (p.registered, p.registered_value) == (2, 25000)  # Acme's and Beta's, this week
    assert (p.holding, p.holding_value) == (3, 32000)  # all but July's (over 90 days)
    assert (p.waiting_total, p.conflicts) == (2, 1)
    assert ":scales: *Deals waiting for a decision (2)*, oldest first: 1 conflict for <@UADMIN1> · 1 partner submission for their owners" in body
    assert "• *Gamma* · Hooli $7K · submitted by the partner since Nov 01 · <@UOWNER2> decides" in body
    assert "• *Beta* · Initech $5K · conflict since Nov 11 · an admin decides" in body
    m = d.movement
    assert [n.name for n in m.new] == ["Delta"] and m.stage_changes == {"at-risk": 1}
    assert [n.name for n in m.onboarded] == ["Epsilon"] and [n.name for n in m.quiet] == ["Zeta"]
    assert [(n.name, n.detail, n.days) for n in m.stalled] == [("Eta", "Agreement signed", 76)]
    assert "*Stage changes*: 1 to at-risk" in body and "*New partners (1)*: *Delta*" in body
    assert "*Onboarding completed (1)*: *Epsilon*" in body
    assert "*Gone quiet (1)*, no interaction nor partner message in 30 days: *Zeta* (<@UOWNER2>)" in body
    assert "• *Eta* · 76 days on *Agreement signed* · <@UOWNER1>" in body
    assert "*Pipeline*: 2 deals registered this week ($25K) · $32K registered and open (3 deals holding their customer" in body


# --- scale, limits, once -------------------------------------------------------------------

def seed_large(count: int, now: datetime) -> None:
    """A workspace of `count` partners with every list long: at risk, stalled, quiet, new,
    deals waiting; KPI values for the quarter, written in bulk (known from their updated_at)."""
    owners = [f"U0OWNER{i}" for i in range(60)]
    rows = []
    for i in range(count):
        stage = "onboarding" if i % 5 == 0 else "at-risk" if i % 7 == 0 else "active"
        created = now - timedelta(days=3) if i % 97 == 0 else now - timedelta(days=200)
        rows.append({"name": f"Partner {i:05d}", "name_key": f"partner {i:05d}", "type": "channel", "owner_id": owners[i % 60],
                     "stage": stage, "created_by": "U1", "created_at": created, "updated_at": created,
                     "stage_changed_at": created, "health_score": 20 + i % 80, "version": i})
    with unit_of_work() as s:
        s.execute(insert(Partner.__table__), rows)
        ids = [pid for (pid,) in s.execute(select(Partner.id).order_by(Partner.id))]
        s.execute(insert(KpiValue.__table__), [
            {"partner_id": pid, "metric": "revenue", "month": month, "source": "manual", "attribution": "sourced",
             "value": Decimal(1000 + n % 50 * 100), "updated_at": now - timedelta(days=20)}
            for n, pid in enumerate(ids) for month in ("2026-10", "2026-11")])
        s.execute(insert(KpiTarget.__table__), [
            {"partner_id": pid, "metric": "revenue", "period": "2026-Q4", "value": Decimal(5000), "set_by": "U1",
             "updated_at": now - timedelta(days=60)} for pid in ids])
        s.execute(insert(Interaction.__table__), [
            {"partner_id": pid, "kind": "call", "summary": "x", "author_id": "U1", "created_at": now,
             "occurred_at": now - timedelta(days=34 if n % 3 == 0 else 5)} for n, pid in enumerate(ids)])
        s.execute(insert(DealRegistration.__table__), [
            {"partner_id": pid, "customer": f"Customer {n}", "customer_key": f"customer {n}", "amount": Decimal(10000),
             "attribution": "sourced", "status": "conflict" if n % 2 else "review", "registered_by": "U1",
             "registered_at": now - timedelta(days=2 + n % 30)} for n, pid in enumerate(ids[:2000])])


def test_digest_at_10000_partners_fits_block_kit_limits(job_settings):
    monday = at(2026, 11, 30, 9)
    seed_large(10_000, monday)
    (post, chart) = notifications(job_settings, monday)
    blocks = post.blocks
    assert len(blocks) <= 50 and len(post.text) <= 40_000 and len(json.dumps(blocks)) < 40_000
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        elif block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "context":
            assert all(len(e["text"]) <= 2000 for e in block["elements"])
    body = texts(blocks)
    # Long lists: worst first, the rest counted, and where the full list is.
    assert "*At risk (" in body and "more: each owner's `/partner status` lists theirs worst first" in body
    # Every fifth partner is in onboarding, those created this week (every 97th) not stalled yet: 2,000 − 21.
    assert "*Stalled onboarding (1,979)*, longest first" in body and "… and 1,969 more: `/partner list stage:onboarding`" in body
    assert "*Deals waiting for a decision (2,000)*" in body and "… and 1,990 more:" in body
    assert "… and 30 more owners: `/partner report` has every owner's row" in body
    assert "*Gone quiet (" in body and "*New partners (104)*" in body
    assert chart.file[2][:8] == b"\x89PNG\r\n\x1a\n" and chart.thread_of == ("kpi-digest", "digest", chart.period)


def test_the_digest_goes_out_once_however_often_the_week_is_run(job_settings, fake_slack):
    acme = add("Acme")
    kpi(acme, "2026-11", "1000", at(2026, 11, 3))
    slack = JobSlack(web_client(job_settings), job_settings.zone)
    first = run_job("kpi-digest", settings=job_settings, slack=slack, now=at(2026, 11, 30, 9))
    again = run_job("kpi-digest", settings=job_settings, slack=slack, now=at(2026, 12, 1, 8))  # a catch-up, same week
    assert (first.sent, again.sent, again.skipped) == (2, 0, 2)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1 and len(fake_slack.calls_to("files.completeUploadExternal")) == 1


def test_migration_backfills_history_from_current_values(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from storage import db

    url = f"sqlite:///{tmp_path}/old.db"
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    config.attributes["engine"] = db.configure(url)
    command.upgrade(config, "0017")
    with db.engine().begin() as c:
        c.execute(text("INSERT INTO partners (id, name, name_key, type, owner_id, stage, created_by, created_at, updated_at, "
                       "stage_changed_at, version) VALUES (1, 'Acme', 'acme', 'channel', 'U1', 'active', 'U1', "
                       "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0)"))
        c.execute(text("INSERT INTO kpi_values (partner_id, metric, month, source, attribution, value, updated_at) "
                       "VALUES (1, 'revenue', '2026-10', 'manual', 'sourced', 1200, '2026-10-20 08:00:00')"))
    command.upgrade(config, "head")
    with unit_of_work() as s:
        assert [tuple(r) for r in s.execute(select(KpiHistory.partner_id, KpiHistory.month, KpiHistory.value, KpiHistory.at))] == [
            (1, "2026-10", Decimal(1200), at(2026, 10, 20, 8))]
        assert kpis.quarter_totals(session=s, months=["2026-10"], at=at(2026, 10, 20, 7))["sourced"]["revenue"] == 0
        assert kpis.quarter_totals(session=s, months=["2026-10"], at=at(2026, 10, 20, 8))["sourced"]["revenue"] == 1200


def test_current_totals_agree_with_the_digest_workspace_figures(job_settings):
    """quarter_totals as of now is workspace_quarter's total (the hypothesis-checked one)."""
    from zoneinfo import ZoneInfo

    ids = [add(n) for n in ("A", "B", "C")]
    for n, pid in enumerate(ids):
        kpi(pid, "2026-10", str(100 * (n + 1)), at(2026, 10, 2))
        kpi(pid, "2026-11", str(7 * n), at(2026, 11, 2), source="deals", metric="deals")
        kpi(pid, "2026-11", str(20 + n), at(2026, 11, 2), metric="adoption")
    with unit_of_work() as s:
        known = kpis.quarter_totals(session=s, months=["2026-10", "2026-11"])["sourced"]
        workspace = kpis.workspace_quarter(session=s, quarter="2026-Q4", months=["2026-10", "2026-11"],
                                           as_of=at(2026, 11, 30), zone=ZoneInfo("UTC"))
    assert known == workspace.totals and known["adoption"] == Decimal("21.0")


"""One health per partner: the same stored score, label and reasons on the card,
portfolio, list, App Home, digest, export and webhooks; one "at risk" rule and
count; the score follows every write and the refresh job applies decay."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import delete, event, func, select, update

from bot.app import web_client
from bot.slack import JobSlack
from bot.transfer import export
from views.partner_card import partner_card
from views.partners import home_view, partner_list, portfolio
from commands import status
from jobs import kpi_digest
from jobs.base import JobContext
from jobs.runner import run_job
from storage import health, partners
from storage import home as storage_home
from storage.db import engine, unit_of_work
from storage.health import Signals, assess
from storage.models import DealRegistration, Interaction, KpiTarget, KpiValue, Partner, Qbr, Stage
from storage.periods import month_of, quarter_months, quarter_of
from tests.conftest import make_settings, serve, texts

UTC = timezone.utc
BADGE = re.compile(r"(\d+)/100 \(([a-z ]+)\)")


def quarter_end_as_of(now: datetime) -> datetime:
    """Noon on the last day of the quarter `now` is in (or `now`, on that day)."""
    quarter = quarter_of(month_of(now.date()))
    last_month = quarter_months(quarter)[-1]
    year, month = int(last_month[:4]), int(last_month[5:])
    last_day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return max(now, datetime.combine(last_day, time(12), UTC))


def line_of(body: str, name: str) -> str:
    """The partner's line in a list of partners (App Home also names it under QBRs and stalls)."""
    return next(ln for ln in body.splitlines() if f"*{name}*" in ln and "health" in ln)


@pytest.fixture
def app_settings(database_url, fake_slack):
    return make_settings(DATABASE_URL=database_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST", SLACK_API_URL=fake_slack.api_url)


def test_one_health_and_one_at_risk_count_on_every_surface(app_settings, fake_slack):
    now = datetime.now(UTC)
    quarter = quarter_of(month_of(now.date()))
    with serve(app_settings, fake_slack) as app:
        for name in ("Acme Corp", "Hooli", "Risky One", "Risky Two", "Quiet Co"):
            app.command(f'add "{name}" type:channel')
        app.command('stage "Acme Corp" active')
        app.command('kpi "Acme Corp" revenue 400')
        app.command(f'target "Acme Corp" revenue 10k period:{quarter}')
        app.command("deal Hooli Initech 5000")
        assert "conflict" in texts(app.command('deal "Acme Corp" Initech 3000')["blocks"])
        app.command('stage "Risky One" at-risk')
        app.command('stage "Risky Two" at-risk')
        # Quiet Co: active for 100 days, never contacted, nothing of its target: below 40 without being marked.
        app.command('stage "Quiet Co" active')
        app.command(f'target "Quiet Co" revenue 10k period:{quarter}')
        # Health as of the end of the quarter: what every surface shows from then on. The partners'
        # history is put relative to that day, so the test reads the same on any day of a quarter.
        as_of = quarter_end_as_of(now)
        with unit_of_work() as s:
            s.execute(update(Partner).values(created_at=as_of - timedelta(days=20)))
            s.execute(update(Partner).where(Partner.name == "Quiet Co").values(created_at=as_of - timedelta(days=100)))
            acme = s.scalar(select(Partner.id).where(Partner.name == "Acme Corp"))
            s.add(Interaction(partner_id=acme, kind="call", summary="pipeline review", author_id="UOWNER1",
                              occurred_at=as_of - timedelta(days=1)))
        slack = JobSlack(web_client(app_settings), app_settings.zone)
        run_job("health-refresh", settings=app_settings, slack=slack, now=as_of)

        card = texts(app.command('status "Acme Corp"')["blocks"])
        score, label = BADGE.search(card).groups()
        assert label == "needs attention" and int(score) < 70  # not "healthy" at 4 % of target
        assert "revenue at 4% of target, 9" in card and "behind pace" in card and "1 deal conflict open" in card
        shown = f"health {score} {label} (revenue at 4% of target"

        folio = texts(app.command("status")["blocks"])
        assert shown in line_of(folio, "Acme Corp")
        assert "3 at risk" in folio  # Risky One, Risky Two (marked) and Quiet Co (below 40)
        assert folio.index("Quiet Co") < folio.index("Acme Corp") < folio.index("Hooli")  # worst first, by the stored score
        assert shown in line_of(texts(app.command("list")["blocks"]), "Acme Corp")

        app.event({"type": "app_home_opened", "user": "UOWNER1", "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
        (publish,) = app.fake.wait_for("views.publish")
        home = texts(publish.args["view"]["blocks"])
        assert shown in line_of(home, "Acme Corp") and "3 at risk" in home

        quiet = BADGE.search(texts(app.command('status "Quiet Co"')["blocks"])).groups()
        assert quiet[1] == "at risk" and int(quiet[0]) < 40
        risky = BADGE.search(texts(app.command('status "Risky One"')["blocks"])).groups()
        assert risky[1] == "at risk"

        run_job("kpi-digest", settings=app_settings, slack=slack, now=as_of)
        (post,) = [c for c in app.fake.calls_to("chat.postMessage") if c.args.get("text", "").startswith("Partner digest")]
        digest = texts(post.args["blocks"])
        assert "At risk (3)" in digest
        assert f"*Quiet Co* ({quiet[0]}/100)" in digest and f"*Risky One* ({risky[0]}/100)" in digest
        assert "Acme Corp* (" not in digest

    out = io.StringIO()
    export("partners", out)
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert (rows["Acme Corp"]["health_score"], rows["Acme Corp"]["health"]) == (score, label)
    assert rows["Acme Corp"]["health_reasons"].startswith("revenue at 4% of target")
    assert (rows["Quiet Co"]["health_score"], rows["Quiet Co"]["health"]) == quiet
    assert sum(r["health"] == "at risk" for r in rows.values()) == 3


def test_the_stored_score_follows_a_write_and_the_refresh_job_applies_decay(app_settings, fake_slack):
    now = datetime.now(UTC)
    with serve(app_settings, fake_slack) as app:
        app.command("add Quietly type:channel")
        app.command("stage quietly active")
        with unit_of_work() as s:
            s.execute(update(Partner).where(Partner.name == "Quietly").values(created_at=now - timedelta(days=45)))
        assert "health 85 healthy (never contacted in 45 days)" in texts(app.command("list")["blocks"])

        logged = texts(app.command("log quietly call talked pricing")["blocks"])
        assert "Health now :large_green_circle: 100/100 (healthy)" in logged  # the same command's reply
        assert "health 100 healthy (in good shape)" in texts(app.command("list")["blocks"])

        slack = JobSlack(web_client(app_settings), app_settings.zone)
        result = run_job("health-refresh", settings=app_settings, slack=slack, now=now + timedelta(days=40, hours=1))
        assert result.failed == 0
        body = texts(app.command("list")["blocks"])
        assert "health 85 healthy (no interaction in 40 days)" in body
        card = texts(app.command("status quietly")["blocks"])
        assert "85/100 (healthy)" in card and "no interaction in 40 days" in card


def test_webhook_partner_data_carries_the_stored_health(session):
    import json

    from storage import webhooks
    from storage.models import WebhookOutbox

    class Hook:
        url = "https://hooks.example.com/x"

        def wants(self, _event):
            return True

    now = datetime.now(UTC)
    p = partners.create(session=session, name="Acme", type="channel", tier=None, owner_id="U1", stage="active",
                        created_by="U1", now=now)
    p.stage = Stage.AT_RISK.value
    webhooks.emit(session=session, hooks=[Hook()], event="partner.stage_changed", partner=p,
                  subject={"stage": {"from": "active", "to": "at-risk"}}, now=now)
    body = json.loads(session.scalar(select(WebhookOutbox.body)))
    assert body["data"]["partner"]["health"] == {"score": 70, "label": "at risk", "reasons": ["marked at-risk"]}


# --- property: for random records, every surface shows the one health ---------------------

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
MONTH, QUARTER = "2026-11", "2026-Q4"

partner_records = st.lists(
    st.fixed_dictionaries({
        "stage": st.sampled_from([s.value for s in Stage]),
        "age": st.integers(0, 400),
        "touches": st.lists(st.integers(0, 120), max_size=3),
        "revenue": st.one_of(st.none(), st.integers(0, 20_000)),
        "target": st.one_of(st.none(), st.integers(1, 20_000)),
        "conflicts": st.integers(0, 2),
        "qbr": st.one_of(st.none(), st.integers(0, 200)),
        "onboarding": st.one_of(st.none(), st.integers(0, 60)),
    }),
    min_size=1, max_size=4,
)


def expected(record: dict) -> health.Health:
    """From the generated record itself, not from the database: checks the set-based gathering too."""
    _, _, elapsed = health.quarter_progress(NOW, UTC, 1)
    return assess(
        Signals(
            stage=record["stage"], created_at=NOW - timedelta(days=record["age"]),
            last_touch=NOW - timedelta(days=min(record["touches"])) if record["touches"] else None,
            attainment=[("revenue", float(record["revenue"] or 0), float(record["target"]))] if record["target"] else None,
            quarter_elapsed=elapsed,
            last_qbr=(NOW - timedelta(days=record["qbr"])).date() if record["qbr"] is not None else None,
            onboarding_since=NOW - timedelta(days=record["onboarding"]) if record["onboarding"] is not None else None,
            open_conflicts=record["conflicts"],
        ),
        now=NOW,
    )


def store(records: list[dict]) -> None:
    with unit_of_work() as s:
        s.execute(delete(Partner))
        health.as_of(s, NOW)
        for i, r in enumerate(records):
            p = Partner(name=f"P{i}", name_key=f"p{i}", type="channel", owner_id="U1", stage=r["stage"], created_by="U1",
                        created_at=NOW - timedelta(days=r["age"]), updated_at=NOW, stage_changed_at=NOW,
                        onboarding_changed_at=NOW - timedelta(days=r["onboarding"]) if r["onboarding"] is not None else None)
            s.add(p)
            s.flush()
            for days in r["touches"]:
                s.add(Interaction(partner_id=p.id, kind="call", summary="x", author_id="U1", occurred_at=NOW - timedelta(days=days)))
            if r["revenue"] is not None:
                s.add(KpiValue(partner_id=p.id, metric="revenue", month=MONTH, value=Decimal(r["revenue"])))
            if r["target"] is not None:
                s.add(KpiTarget(partner_id=p.id, metric="revenue", period=QUARTER, value=Decimal(r["target"]), set_by="U1"))
            for c in range(r["conflicts"]):
                s.add(DealRegistration(partner_id=p.id, customer=f"C{c}", customer_key=f"c{c}", amount=Decimal(1), status="conflict",
                                       registered_by="U1", registered_at=NOW))
            if r["qbr"] is not None:
                s.add(Qbr(partner_id=p.id, held_on=(NOW - timedelta(days=r["qbr"])).date(), created_by="U1"))


@given(records=partner_records)
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_surface_shows_the_same_health_for_random_records(settings, records):
    store(records)
    wanted = [expected(r) for r in records]
    at_risk = sum(h.label == "at risk" for h in wanted)
    with unit_of_work(read_only=True) as s:
        rows = storage_home.portfolio(session=s, owner_id="U1")
        folio = texts(portfolio(rows, owner_id="U1", now=NOW, limit=10))
        listed = texts(partner_list([(r.partner, r.last_touch) for r in partners.rows(session=s)], title="All", now=NOW))
        mine = storage_home.for_user(session=s, user_id="U1", now=NOW, zone=settings.zone, stall_days=settings.stall_days)
        home = texts(home_view(mine.portfolio, user_id="U1", now=NOW, upcoming=mine.upcoming, stalled=mine.stalled)["blocks"])
        cards = {p.name: texts(partner_card(status.card_data(s, p, now=NOW, settings=settings), now=NOW, zone=UTC))
                 for p, _, _ in rows}
        digest_settings = settings.model_copy(update={"digest_channel": "C0DIGEST"})
        (message, *_) = kpi_digest.collect(JobContext(session=s, settings=digest_settings, now=NOW, user_tz=lambda _u: UTC))
        digest = texts(message.blocks)
        by_sql = s.scalar(select(func.count()).select_from(Partner).where(health.at_risk_clause()))
    for i, want in enumerate(wanted):
        name = f"P{i}"
        shown = f"health {want.score} {want.label}"
        assert shown in line_of(folio, name) and shown in line_of(listed, name) and shown in line_of(home, name)
        assert f"{want.score}/100 ({want.label})" in cards[name] and "; ".join(want.reasons) in cards[name]
        assert (f"*{name}* ({want.score}/100)" in digest) == (want.label == "at risk")
    assert f"{at_risk} at risk" in folio and f"{at_risk} at risk" in home and by_sql == at_risk
    assert (f"At risk ({at_risk})" in digest) == (at_risk > 0)


def test_health_refresh_statements_do_not_grow_with_partners(settings):
    """Set-based: the same number of statements for 30 partners as for 150."""
    from storage import demo

    def statements(count: int) -> int:
        with unit_of_work() as s:
            s.execute(delete(Partner))
            demo.seed(session=s, partners=count, seed=count, now=NOW)
        seen: list[str] = []
        listener = lambda conn, cursor, statement, *a: seen.append(statement)  # noqa: E731
        event.listen(engine(), "before_cursor_execute", listener)
        try:
            with unit_of_work() as s:
                health.refresh(session=s, now=NOW + timedelta(days=400), rules=health.Rules.of(settings))
        finally:
            event.remove(engine(), "before_cursor_execute", listener)
        return len(seen)

    assert statements(30) == statements(150)


def test_a_new_partner_is_scored_in_its_own_transaction(session):
    p = partners.create(session=session, name="Fresh", type="channel", tier=None, owner_id="U1", stage="onboarding",
                        created_by="U1", now=datetime.now(UTC))
    assert health.current(session, p).score == 100 and health.current(session, p).label == "healthy"


def test_bulk_paths_end_with_correct_scores(settings, tmp_path):
    """Demo seeding, CSV import (create and --update) and bulk statements store the
    score the health function gives, in their own transaction: nothing left unscored or stale."""
    from bot.transfer import import_partners
    from storage import demo

    health.configure(settings)
    with unit_of_work() as s:
        health.as_of(s, NOW)
        demo.seed(session=s, partners=40, seed=3, now=NOW)
    with unit_of_work() as s:
        assert health.refresh(session=s, now=NOW, dry_run=True) == 0
        assert s.scalar(select(func.count()).where(Partner.health_score.is_(None))) == 0
        marked = s.scalar(select(func.count()).where(Partner.stage == "at-risk", Partner.archived_at.is_(None)))
    file = tmp_path / "partners.csv"
    file.write_text("name,type,tier,owner,stage\nImported One,channel,,UOWNER1,at-risk\n", encoding="utf-8")
    import_partners(file)
    with unit_of_work(read_only=True) as s:
        (imported,) = s.scalars(select(Partner).where(Partner.name == "Imported One"))
        assert (imported.health_score, health.stored(imported).label) == (70, "at risk")
        assert len(partners.at_risk(session=s)) >= marked + 1
    file.write_text("name,type,tier,owner,stage\nImported One,channel,,UOWNER1,active\n", encoding="utf-8")
    import_partners(file, update_existing=True)
    with unit_of_work(read_only=True) as s:
        imported = s.scalar(select(Partner).where(Partner.name == "Imported One"))
        assert (imported.health_score, health.stored(imported).label) == (100, "healthy")

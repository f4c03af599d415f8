"""One truth for KPI figures (issue 12): the card, stored health and the digest judge a
quarter by one rule (storage.kpis.judge): adoption is a level (latest month, its
target not added up, not paced); a target made of month targets covers only those
months; adoption shows one percentage everywhere."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import update

from bot.app import web_client
from bot.slack import JobSlack
from jobs.runner import run_job
from storage.db import unit_of_work
from storage.models import Partner
from storage.periods import month_bounds, month_of, quarter_months, quarter_of
from tests.conftest import make_settings, serve, texts

UTC = timezone.utc


@pytest.fixture
def app_settings(database_url, fake_slack):
    return make_settings(DATABASE_URL=database_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST", SLACK_API_URL=fake_slack.api_url)


def this_quarter() -> tuple[str, list[str]]:
    quarter = quarter_of(month_of(datetime.now(UTC).date()))
    return quarter, quarter_months(quarter)


def as_of_health(app, settings, as_of: datetime) -> None:
    """Partners created the day before `as_of` (nothing else judged), health stored as of then."""
    with unit_of_work() as s:
        s.execute(update(Partner).values(created_at=as_of - timedelta(days=1)))
    run_job("health-refresh", settings=settings, slack=JobSlack(web_client(settings), settings.zone), now=as_of)


def digest_as_of(app, settings, as_of: datetime) -> str:
    run_job("kpi-digest", settings=settings, slack=JobSlack(web_client(settings), settings.zone), now=as_of)
    (post,) = [c for c in app.fake.calls_to("chat.postMessage") if c.args.get("text", "").startswith("Partner digest")]
    return texts(post.args["blocks"])


def card(app, name: str) -> str:
    return texts(app.command(f'status "{name}"')["blocks"])


def test_adoption_month_targets_are_a_level_on_card_health_and_digest(app_settings, fake_slack):
    quarter, months = this_quarter()
    # Noon on the quarter's last day: the digest's week and health both fall in this quarter.
    last_day = month_bounds(months[-1], UTC)[1].date() - timedelta(days=1)
    as_of = datetime.combine(last_day, time(12), UTC)
    with serve(app_settings, fake_slack) as app:
        app.command('add "Acme Corp" type:channel')
        app.command('add "Hooli" type:channel')
        for month in months:
            app.command(f'target "Acme Corp" adoption 80% period:{month}')
        app.command(f'kpi "Acme Corp" adoption 88% period:{months[0]}')
        app.command(f'target Hooli adoption 80% period:{quarter}')
        app.command(f'kpi Hooli adoption 40% period:{months[0]}')
        as_of_health(app, app_settings, as_of)

        acme = card(app, "Acme Corp")
        assert "*adoption* 88% of 80% · 110%" in acme, acme
        assert "adoption at" not in acme and "100/100 (healthy)" in acme and "in good shape" in acme
        hooli = card(app, "Hooli")
        # A level is judged as it stands, not against the share of the quarter passed.
        assert "adoption at 50% of target" in hooli and "behind pace" not in hooli

        digest = digest_as_of(app, app_settings, as_of)
        assert "*adoption (avg)* 64% of 80% (80%)" in digest, digest


def test_month_target_covers_only_its_month_on_card_health_and_digest(app_settings, fake_slack):
    quarter, months = this_quarter()
    target_month = months[-1]
    start = month_bounds(target_month, UTC)[0]
    with serve(app_settings, fake_slack) as app:
        app.command('add "Acme Corp" type:channel')
        app.command(f'kpi "Acme Corp" revenue 9k period:{months[0]}')
        app.command(f'target "Acme Corp" revenue 10k period:{target_month}')
        app.command(f'target "Acme Corp" leads 100 period:{target_month}')
        app.command(f'kpi "Acme Corp" leads 1 period:{target_month}')
        # A day and a half into the target month: on pace, whatever share of the quarter has passed.
        as_of_health(app, app_settings, start + timedelta(days=1, hours=12))

        acme = card(app, "Acme Corp")
        assert f"*revenue* $0 of $10K for {target_month} · 0%" in acme, acme
        assert f"*leads* 1 of 100 for {target_month} · 1%" in acme
        assert "100/100 (healthy)" in acme and "behind pace" not in acme

        digest = digest_as_of(app, app_settings, start + timedelta(days=14, hours=9))
        assert "*revenue* $9K · $0 of $10K target (0%)" in digest, digest
        assert "*leads* 1 of 100 (1%)" in digest

        # A quarter target wins: judged over the whole quarter.
        app.command(f'target "Acme Corp" revenue 20k period:{quarter}')
        assert "*revenue* $9K of $20K · 45%" in card(app, "Acme Corp")


def test_small_adoption_shows_its_decimals_everywhere(app_settings, fake_slack):
    with serve(app_settings, fake_slack) as app:
        app.command('add "Acme Corp" type:channel')
        assert "*0.5%*" in texts(app.command('kpi "Acme Corp" adoption 0.5')["blocks"])
        assert "(replaced 0.5%)" in texts(app.command('kpi "Acme Corp" adoption 0.25')["blocks"])
        assert "*adoption* 0.25%" in card(app, "Acme Corp")

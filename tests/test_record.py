"""The partner manager's record end to end: onboarding, QBRs, KPIs and targets,
deal registration with conflicts and admin decisions, health on the card."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from views.ids import Action
from storage.db import unit_of_work
from storage.health import Signals, assess
from storage.models import DealRegistration, KpiTarget, KpiValue, OnboardingStep, Partner, Qbr
from tests.conftest import texts


def body(slack_app, text, user="UOWNER1"):
    return texts(slack_app.command(text, user=user)["blocks"])


def rows(model):
    with unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def acme(slack_app):
    slack_app.command('add "Acme Corp" type:channel tier:Gold', user="UOWNER1")
    return slack_app


def test_onboarding_steps_fit_type_and_completion_activates(acme):
    assert "0/4" in body(acme, "onboard acme") and "Portal access" in body(acme, "onboard acme")
    for step in ("agreement", "portal", "sales training"):
        assert "done for *Acme Corp*" in body(acme, f"onboard acme done {step}")
    final = body(acme, "onboard acme done first-deal")
    assert "is now *active*" in final
    with unit_of_work() as s:
        partner = s.scalars(select(Partner)).one()
        assert partner.stage == "active" and partner.onboarding_changed_at is not None
        assert {st.done_by for st in s.scalars(select(OnboardingStep))} == {"UOWNER1"}


def test_onboarding_unknown_step_lists_steps_and_undo_is_admin_only(acme):
    assert "`sandbox` is not a channel onboarding step" in body(acme, "onboard acme done sandbox").replace("`sandbox`", "`sandbox`")
    body(acme, "onboard acme done agreement")
    assert "Only admins can undo" in body(acme, "onboard acme undo agreement")
    assert rows(OnboardingStep) == 1
    assert "no longer done" in body(acme, "onboard acme undo agreement", user="UADMIN1")
    assert rows(OnboardingStep) == 0


def test_qbr_schedule_refuses_past_and_garbage_then_holds(acme):
    assert "is in the past" in body(acme, "qbr acme 2001-01-01")
    assert "is not a date" in body(acme, "qbr acme someday")
    assert rows(Qbr) == 0
    assert "scheduled for" in body(acme, "qbr acme in 2 weeks")
    assert "Recorded today's QBR" in body(acme, "qbr acme done renewal agreed")
    card = body(acme, "status acme")
    today = datetime.now(timezone.utc).date()
    assert f"next {(today + timedelta(days=14)).isoformat()}" in card and f"last {today.isoformat()}" in card


@pytest.mark.parametrize("value, expected", [("12,500", "12500.00"), ("12.5k", "12500.00"), ("$1.2M", "1200000.00")])
def test_kpi_values_parse(acme, value, expected):
    assert "revenue for" in body(acme, f"kpi acme revenue {value}")
    with unit_of_work() as s:
        assert s.scalar(select(KpiValue.value)) == Decimal(expected)


@pytest.mark.parametrize("value", ["lots", "1e999", "-5", "45%", "99999999999999999"])
def test_kpi_nonsense_is_refused_and_nothing_written(acme, value):
    reply = body(acme, f"kpi acme revenue {value}")
    assert ":warning:" in reply
    assert rows(KpiValue) == 0


def test_adoption_is_a_percentage(acme):
    assert "*45%*" in body(acme, "kpi acme adoption 45%")
    assert "*45%*" in body(acme, "kpi acme adoption 45")
    assert "0 to 100" in body(acme, "kpi acme adoption 140")


def test_kpi_shows_replaced_value_and_card_shows_attainment(acme):
    body(acme, "kpi acme revenue 10k")
    assert "(replaced $10K)" in body(acme, "kpi acme revenue 15k")
    assert "target" in body(acme, "target acme revenue 60k")
    card = body(acme, "status acme")
    assert "*revenue* $15K of $60K · 25%" in card
    assert "`██▌" not in card and "`███░░░░░░░`" not in card


def test_quarter_sums_months_and_adoption_takes_latest(acme, settings):
    from storage.periods import month_of, quarter_months, quarter_of

    quarter = quarter_of(month_of(datetime.now(timezone.utc).date()))
    months = quarter_months(quarter)
    for month, leads in zip(months, (5, 7, 9)):
        body(acme, f"kpi acme leads {leads} period:{month}")
    body(acme, f"kpi acme adoption 30 period:{months[0]}")
    body(acme, f"kpi acme adoption 55 period:{months[1]}")
    body(acme, f"target acme leads 42 period:{quarter}")
    card = body(acme, "status acme")
    assert "*leads* 21 of 42 · 50%" in card
    assert "*adoption* 55%" in card


def test_target_is_owner_or_admin(acme):
    assert "Only Acme Corp's owner" in body(acme, "target acme revenue 10k", user="USTRANGER")
    assert rows(KpiTarget) == 0


def test_deal_for_non_channel_partner_is_refused(acme):
    acme.command("add Hooli type:technology", user="UOWNER1")
    assert "Deal registration is for channel partners" in body(acme, "deal hooli Initech 5k")
    assert rows(DealRegistration) == 0


def test_deal_conflict_goes_to_digest_and_admin_decides(fake_slack, database_url):
    from tests.conftest import make_settings, serve

    with serve(make_settings(DATABASE_URL=database_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST"), fake_slack) as app:
        app.command("add Globex type:channel", user="UOWNER2")
        app.command("add Acme type:channel", user="UOWNER1")
        assert "Registered deal *#1*" in body(app, 'deal globex "Initech, Inc." 25k', user="UOWNER2")
        reply = body(app, "deal acme initech corp $30,000", user="UOWNER1")
        assert "flagged as a *conflict*" in reply and "*Globex* registered this customer first" in reply
        (post,) = app.fake.wait_for("chat.postMessage")
        assert post.args["channel"] == "C0DIGEST"
        approve = post.args["blocks"][-1]["elements"][0]
        assert approve["action_id"] == Action.DEAL_APPROVE

        _, url = app.action(Action.DEAL_APPROVE, approve["value"], user="UOWNER1", channel="C0DIGEST")
        refused = app.reply_to(url)
        assert "Only admins can approve" in texts(refused["blocks"]) and refused["replace_original"] is False

        _, url = app.action(Action.DEAL_APPROVE, approve["value"], user="UADMIN1", channel="C0DIGEST")
        decided = app.reply_to(url)
        assert decided["replace_original"] is True and "Approved by <@UADMIN1>" in texts(decided["blocks"])
        dm = app.fake.wait_for("chat.postMessage", 2)[1]
        assert dm.args["channel"] == "UOWNER1" and "was *approved*" in texts(dm.args["blocks"])

        _, url = app.action(Action.DEAL_REJECT, approve["value"], user="UADMIN1", channel="C0DIGEST")
        assert "already approved" in texts(app.reply_to(url)["blocks"])
        with unit_of_work() as s:
            deals_kpi = s.scalar(select(KpiValue.value).where(KpiValue.partner_id == 2, KpiValue.metric == "deals"))
        assert deals_kpi == Decimal(1)


def test_health_reasons_from_constructed_history():
    now = datetime(2026, 6, 15, tzinfo=timezone.utc)
    created = now - timedelta(days=400)
    healthy = assess(Signals(stage="active", created_at=created, last_touch=now - timedelta(days=2),
                             last_qbr=(now - timedelta(days=20)).date()), now=now)
    assert healthy.score == 100 and healthy.label == "healthy"
    worrying = assess(
        Signals(stage="active", created_at=created, last_touch=now - timedelta(days=41),
                attainment=[("revenue", 16_000, 50_000)], quarter_elapsed=0.8, last_qbr=None, open_conflicts=1),
        now=now,
    )
    # KPI penalty: 50 × (0.8 of the quarter passed − 0.32 of target reached) = 24.
    assert worrying.reasons[:2] == ["revenue at 32% of target, 60% behind pace", "no interaction in 41 days"]
    assert worrying.score == 100 - 24 - 15 - 15 - 10
    stalled = assess(Signals(stage="onboarding", created_at=now - timedelta(days=20), last_touch=now,
                             onboarding_since=None), now=now, stall_days=14)
    assert "onboarding stalled for 20 days" in stalled.reasons
    assert assess(Signals(stage="churned", created_at=created, last_touch=now), now=now).score == 0


def test_card_within_limits_for_long_history(acme):
    with unit_of_work() as s:
        from storage.models import Interaction

        partner = s.scalars(select(Partner)).one()
        now = datetime.now(timezone.utc)
        s.add_all(Interaction(partner_id=partner.id, kind="call", summary="<!channel> " + "x" * 2900, author_id="U1",
                              occurred_at=now - timedelta(minutes=i), created_at=now) for i in range(1000))
    card = acme.command("status acme")
    assert len(card["blocks"]) <= 50
    for block in card["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    assert "1,000 in all" in texts(card["blocks"])
    assert "<!channel>" not in texts(card["blocks"])

"""Partner activity in the partner channel (issue #15): messages the partner's own people
post in its linked Slack Connect channel are counted per day — never stored as text —
and feed health ("no interaction in N days") and the card. Through the Slack door:
signed Events API deliveries, the fake Slack answering users.info."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select, update

from storage.db import engine, unit_of_work
from storage.models import Base, DealRegistration, Interaction, Partner, PartnerActivity
from tests.conftest import make_settings, serve, texts
from views.ids import Action, Shortcut, View

CANARY = "zebra-canary-7f3a the partner said something private"


@pytest.fixture
def acme(slack_app):
    """Acme, linked to its shared channel C0ACME, where UEXT1 of another organisation posts."""
    arrange(slack_app)
    return slack_app


def arrange(app) -> None:
    app.fake.add_user("UEXT1", team_id="T0OTHER")
    app.fake.add_channel("C0ACME", name="acme-shared", is_ext_shared=True)
    app.fake.add_channel("C0SHARED", name="someone-shared", is_ext_shared=True)
    app.command("add Acme type:channel", user="UOWNER1")
    app.command("add Beta type:channel", user="UOWNER1")
    with unit_of_work() as session:
        session.execute(update(Partner).where(Partner.name == "Acme").values(slack_channel_id="C0ACME"))


def post(app, *, user: str = "UEXT1", channel: str = "C0ACME", at: datetime | None = None, text: str = "hello", **extra) -> None:
    """A message event as Slack delivers it; the ack says nothing, and nothing is said to Slack."""
    ts = f"{(at or datetime.now(timezone.utc)).timestamp():.6f}"
    event = {"type": "message", "channel": channel, "channel_type": "channel", "user": user, "text": text, "ts": ts,
             "event_ts": ts, "team": "T0OTHER", **extra}
    response = app.event({k: v for k, v in event.items() if v is not None})
    assert response.status_code == 200 and response.content == b""
    app.settle()


def counts() -> dict[date, int]:
    with unit_of_work(read_only=True) as session:
        return dict(session.execute(select(PartnerActivity.day, PartnerActivity.messages)).all())


def active_at(name: str = "Acme") -> datetime | None:
    with unit_of_work(read_only=True) as session:
        return session.scalar(select(Partner.partner_active_at).where(Partner.name == name))


def ids() -> dict[str, int]:
    with unit_of_work(read_only=True) as session:
        return dict(session.execute(select(Partner.name, Partner.id)).all())


def card(app, name: str) -> str:
    return texts(app.command(f"status {name}", user="UOWNER1")["blocks"])


# --- counting ---------------------------------------------------------------------


@pytest.fixture
def west_app(database_url, fake_slack):
    """The team works in Los Angeles time: a day is a Los Angeles day."""
    with serve(make_settings(DATABASE_URL=database_url, PARTNERBOT_TIMEZONE="America/Los_Angeles"), fake_slack) as app:
        arrange(app)
        yield app


def test_a_partners_messages_count_per_team_day_and_move_its_last_activity_forward_only(west_app):
    evening = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Nov 24, 19:00 in Los Angeles
    morning = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)
    later = datetime(2026, 11, 25, 18, 30, tzinfo=timezone.utc)
    west_app.fake.reset_calls()
    post(west_app, at=evening)
    post(west_app, at=later, subtype="thread_broadcast")
    post(west_app, at=morning, subtype="file_share")  # delivered late: counted, the time stays
    post(west_app, at=later - timedelta(minutes=1), thread_ts=f"{morning.timestamp():.6f}")  # a reply in a thread
    assert counts() == {date(2026, 11, 24): 1, date(2026, 11, 25): 3}
    assert active_at() == later
    with unit_of_work(read_only=True) as session:
        assert session.scalar(select(PartnerActivity.last_at).where(PartnerActivity.day == date(2026, 11, 25))) == later
    post(west_app, at=datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc))  # a much older message, redelivered
    assert active_at() == later and counts()[date(2026, 11, 20)] == 1
    # Counting only asks Slack who posted: nothing is posted, updated or opened.
    assert {call.method for call in west_app.fake.calls} <= {"users.info", "auth.test"}
    assert active_at("Beta") is None


def test_messages_arriving_at_once_are_all_counted(acme):
    at = datetime.now(timezone.utc)
    threads = [threading.Thread(target=acme.event, args=({"type": "message", "channel": "C0ACME", "channel_type": "channel",
                                                         "user": "UEXT1", "text": "hi", "ts": f"{at.timestamp() + i:.6f}"},))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    acme.settle()
    assert sum(counts().values()) == 8


@pytest.mark.parametrize("who, where, extra", [
    ("UOWNER1", "C0ACME", {}),  # one of us, in the partner's channel
    ("UEXT1", "C0SHARED", {}),  # a partner's person in a shared channel linked to nobody
    ("UEXT1", "C0ACME", {"bot_id": "B0THEIRS"}),  # their bot
    ("UEXT1", "C0ACME", {"subtype": "bot_message", "bot_id": "B0THEIRS"}),
    ("UEXT1", "C0ACME", {"subtype": "channel_join"}),
    ("UEXT1", "C0ACME", {"subtype": "message_changed"}),
    ("UEXT1", "C0ACME", {"channel_type": "im"}),
    ("UGUEST1", "C0ACME", {}),  # a guest of ours is not the partner
])
def test_only_the_partners_own_people_posting_in_its_channel_count(acme, who, where, extra):
    acme.fake.add_user("UGUEST1", is_restricted=True)
    post(acme, user=who, channel=where, **extra)
    assert counts() == {} and active_at() is None


@pytest.mark.parametrize("fault", ["error", "server"])
def test_when_slack_cannot_say_who_posted_the_message_is_not_counted(acme, fault):
    if fault == "error":
        acme.fake.fail_next("users.info", "ratelimited")
    else:
        acme.fake.server_error_next("users.info")
    post(acme)
    assert counts() == {} and active_at() is None
    post(acme)  # Slack answers again: the failure was not remembered as "internal"
    assert sum(counts().values()) == 1


def test_every_message_subtype_is_acknowledged_without_warnings(acme, caplog):
    events = [{"subtype": "message_changed", "message": {"text": "x"}, "user": None}, {"subtype": "message_deleted", "user": None},
              {"subtype": "channel_join"}, {"subtype": "bot_message", "bot_id": "B1", "user": None}, {"subtype": "channel_topic"}]
    with caplog.at_level(logging.WARNING):
        for extra in events:
            post(acme, **extra)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("slack_bolt")] == []
    assert counts() == {}


def test_no_message_text_is_stored_anywhere(acme):
    post(acme, text=CANARY)
    assert sum(counts().values()) == 1
    assert {c["name"] for c in inspect(engine()).get_columns("partner_activity")} == {"partner_id", "day", "messages", "last_at"}
    with unit_of_work(read_only=True) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert "zebra-canary" not in repr(tuple(row)), table.name


# --- health and the card ----------------------------------------------------------


def test_a_partner_active_in_its_channel_is_not_flagged_quiet_and_the_card_says_when(acme):
    long_ago = datetime.now(timezone.utc) - timedelta(days=45)
    with unit_of_work() as session:
        for partner_id in ids().values():
            session.add(Interaction(partner_id=partner_id, kind="call", summary="kick-off", author_id="UOWNER1", occurred_at=long_ago))
    before = card(acme, "acme")
    assert "no interaction in 45 days" in before and "Partner last active in channel" not in before
    post(acme)
    today = datetime.now(timezone.utc).date().isoformat()
    after = card(acme, "acme")
    assert "no interaction in" not in after and "100/100 (healthy)" in after
    assert f"Partner last active in channel: {today} (1 message in the last 30 days)" in after
    post(acme)  # the same day: the cached card still gives way to the new count
    assert f"Partner last active in channel: {today} (2 messages in the last 30 days)" in card(acme, "acme")
    quiet = card(acme, "beta")
    assert "no interaction in 45 days" in quiet and "85/100" in quiet and "Partner last active" not in quiet


def test_the_refresh_job_counts_from_the_partners_last_message(acme):
    from storage import health

    post(acme, at=datetime.now(timezone.utc) - timedelta(days=2))
    with unit_of_work() as session:
        health.refresh(session=session, now=datetime.now(timezone.utc) + timedelta(days=40))
    shown = card(acme, "acme")
    assert "no interaction in 42 days" in shown and "never contacted" not in shown


def test_a_partner_submission_clashing_with_another_partners_counts_as_an_open_conflict(acme):
    partner = ids()
    with unit_of_work() as session:
        for owner, other in (("Acme", partner["Beta"]), ("Beta", None)):
            session.add(DealRegistration(partner_id=partner[owner], customer="Initech", customer_key="initech", amount=Decimal(5000),
                                         status="review", conflict_with_id=other, registered_by="UEXT1",
                                         registered_at=datetime.now(timezone.utc), submitted_team_id="T0OTHER"))
    assert "1 deal conflict open" in card(acme, "acme")
    assert "deal conflict" not in card(acme, "beta")


# --- Log to partner ---------------------------------------------------------------


def shortcut(app, *, user: str, channel: str) -> None:
    response = app.interactive({
        "type": "message_action", "callback_id": Shortcut.LOG, "trigger_id": "111.222.abc",
        "user": {"id": user}, "channel": {"id": channel}, "response_url": app.fake.new_response_url(),
        "message": {"ts": "1700000123.000200", "user": "UEXT1", "text": "Let's plan the Q3 launch"},
    })
    assert response.status_code == 200
    app.settle()


def test_log_to_partner_in_a_partner_channel_has_that_partner_chosen(acme):
    shortcut(acme, user="UOWNER1", channel="C0ACME")
    (opened,) = acme.fake.calls_to("views.open")
    assert "initial_option" not in opened.args["view"]["blocks"][0]["element"]  # opened before anything was read
    (updated,) = acme.fake.calls_to("views.update")
    view = updated.args["view"]
    picker = next(b for b in view["blocks"] if b["block_id"] == "partner")["element"]
    assert picker["initial_option"] == {"text": {"type": "plain_text", "text": "Acme"}, "value": str(ids()["Acme"])}
    assert view["callback_id"] == View.LOG and "Let's plan the Q3 launch" in str(view["blocks"])
    values = {
        "partner": {Action.PARTNER_PICK: {"type": "external_select", "selected_option": picker["initial_option"]}},
        "kind": {"value": {"type": "static_select", "selected_option": {"value": "meeting"}}},
        "text": {"value": {"type": "plain_text_input", "value": "Let's plan the Q3 launch"}},
        "date": {"value": {"type": "datepicker", "selected_date": None}},
    }
    acme.submit_view(view, values, user="UOWNER1")
    with unit_of_work(read_only=True) as session:
        (logged,) = session.scalars(select(Interaction))
        assert logged.partner_id == ids()["Acme"] and logged.kind == "meeting"


def test_log_to_partner_elsewhere_chooses_nothing(acme):
    shortcut(acme, user="UOWNER1", channel="C0GENERAL")
    assert len(acme.fake.calls_to("views.open")) == 1 and acme.fake.calls_to("views.update") == []


def test_a_refused_person_never_sees_the_partner_of_the_channel(acme):
    shortcut(acme, user="UEXT1", channel="C0ACME")
    (updated,) = acme.fake.calls_to("views.update")  # the refusal in place of the form
    assert "Acme" not in str(updated.args["view"]) and "initial_option" not in str(updated.args["view"])
    assert "Acme" not in str(acme.fake.calls_to("views.open")[0].args["view"])

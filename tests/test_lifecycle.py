"""Lifecycles: a partner's one upcoming QBR (move, cancel, done on a past date, its
reminder), deal registrations (duplicate vs conflict, the earliest holder named),
and changes (undo never skips a newer change; history, paged)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.app import web_client
from bot.dispatch import run_command
from bot.slack import JobSlack
from views.ids import Action
from commands.context import Caller
from jobs.runner import run_job
from storage import partners
from storage.db import unit_of_work
from storage.models import Change, DealRegistration, Partner, Qbr
from tests.conftest import Quiet, make_settings, texts

UTC = timezone.utc


def body(app, text, user="UOWNER1"):
    return texts(app.command(text, user=user)["blocks"])


def count(model, *where):
    with unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def short(day: date) -> str:
    return f"{day:%a %b} {day.day}"


def today() -> date:
    return datetime.now(UTC).date()


def upcoming_qbrs(partner_name: str) -> list[date]:
    with unit_of_work() as s:
        return list(s.scalars(select(Qbr.scheduled_for).join(Partner, Partner.id == Qbr.partner_id)
                              .where(Partner.name == partner_name, Qbr.held_on.is_(None), Qbr.cancelled_at.is_(None))))


@pytest.fixture
def oceanic(slack_app):
    slack_app.command("add Oceanic type:channel", user="UOWNER1")
    return slack_app


# --- QBRs -------------------------------------------------------------------------

def test_scheduling_again_moves_the_one_upcoming_qbr_and_the_card_shows_it(oceanic):
    first, second = today() + timedelta(days=20), today() + timedelta(days=21)
    assert "scheduled for" in body(oceanic, f"qbr Oceanic {first.isoformat()}")
    reply = body(oceanic, f"qbr Oceanic {second.isoformat()}")
    assert f"moved from {short(first)} to *{short(second)}*" in reply
    assert upcoming_qbrs("Oceanic") == [second]
    card = body(oceanic, "status Oceanic")
    assert f"next {second.isoformat()}" in card and first.isoformat() not in card


def test_cancel_says_which_date_and_then_there_is_nothing_to_cancel(oceanic):
    day = today() + timedelta(days=9)
    oceanic.command(f"qbr Oceanic {day.isoformat()}")
    assert f"Cancelled the QBR with *Oceanic* on *{short(day)}*" in body(oceanic, "qbr Oceanic cancel")
    assert upcoming_qbrs("Oceanic") == []
    assert "next not scheduled" in body(oceanic, "status Oceanic")
    again = body(oceanic, "qbr Oceanic cancel")
    assert "has no upcoming QBR to cancel" in again and "Usage" in again


def test_done_on_a_past_date_closes_the_upcoming_qbr_and_the_card_shows_its_notes(oceanic):
    planned, held = today() + timedelta(days=3), today() - timedelta(days=2)
    oceanic.command(f"qbr Oceanic {planned.isoformat()}")
    reply = body(oceanic, f"qbr Oceanic done {held.isoformat()} Renewal agreed\nsecond line stays off the card")
    assert f"Recorded the QBR held on {held:%A %Y-%m-%d}" in reply and f"fulfils the QBR planned for {short(planned)}" in reply
    assert upcoming_qbrs("Oceanic") == []
    with unit_of_work() as s:
        assert list(s.scalars(select(Qbr.held_on))) == [held]
    card = body(oceanic, "status Oceanic")
    assert f"last {held.isoformat()}: Renewal agreed" in card and "second line" not in card
    assert "next not scheduled" in card


def test_done_refuses_a_future_date_and_writes_nothing(oceanic):
    future = today() + timedelta(days=5)
    reply = body(oceanic, f"qbr Oceanic done {future.isoformat()} great meeting")
    assert "is in the future" in reply
    assert count(Qbr) == 0


def test_reminder_follows_a_moved_qbr_once_per_date(oceanic, database_url, fake_slack):
    settings = make_settings(DATABASE_URL=database_url, SLACK_API_URL=fake_slack.api_url)
    slack = JobSlack(web_client(settings), settings.zone)
    fake_slack.add_user("UOWNER1", tz="UTC")
    morning = datetime.combine(today(), datetime.min.time(), UTC) + timedelta(hours=9)
    old, new, newer = (today() + timedelta(days=n) for n in (3, 5, 6))

    def reminders() -> list[str]:
        return [texts(c.args["blocks"]) for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == "UOWNER1"]

    oceanic.command(f"qbr Oceanic {old.isoformat()}")
    oceanic.command(f"qbr Oceanic {new.isoformat()}")
    assert run_job("qbr-reminders", settings=settings, slack=slack, now=morning).sent == 1
    (dm,) = reminders()
    assert new.isoformat() in dm and old.isoformat() not in dm
    assert run_job("qbr-reminders", settings=settings, slack=slack, now=morning + timedelta(hours=1)).sent == 0
    # Moved again after its reminder: reminded for the new date, once.
    oceanic.command(f"qbr Oceanic {newer.isoformat()}")
    assert run_job("qbr-reminders", settings=settings, slack=slack, now=morning + timedelta(hours=2)).sent == 1
    assert run_job("qbr-reminders", settings=settings, slack=slack, now=morning + timedelta(hours=3)).sent == 0
    assert len(reminders()) == 2 and newer.isoformat() in reminders()[1]


def test_the_database_refuses_a_second_upcoming_qbr(database_url):
    with unit_of_work() as s:
        p = partners.create(session=s, name="Oceanic", type="channel", tier=None, owner_id="U1", stage="active",
                            created_by="U1", now=datetime.now(UTC))
        pid = p.id
        s.add(Qbr(partner_id=pid, scheduled_for=today(), created_by="U1"))
    with pytest.raises(IntegrityError), unit_of_work() as s:
        s.add(Qbr(partner_id=pid, scheduled_for=today() + timedelta(days=1), created_by="U1"))
        s.flush()
    with unit_of_work() as s:  # held and cancelled ones do not count
        s.add(Qbr(partner_id=pid, scheduled_for=today(), held_on=today(), created_by="U1"))
        s.add(Qbr(partner_id=pid, scheduled_for=today(), cancelled_at=datetime.now(UTC), created_by="U1"))
    assert count(Qbr) == 3


_serial = itertools.count(1)
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)

qbr_ops = st.lists(
    st.one_of(
        st.tuples(st.just("schedule"), st.integers(0, 40)),
        st.tuples(st.just("cancel"), st.just(0)),
        st.tuples(st.just("done"), st.integers(-40, 0)),
    ),
    max_size=8,
)


@given(ops=qbr_ops)
@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_partner_never_has_two_upcoming_qbrs(settings, ops):
    name = f"Qbr Partner {next(_serial)}"
    with unit_of_work() as s:
        partners.create(session=s, name=name, type="channel", tier=None, owner_id="UOWNER1", stage="active",
                        created_by="UOWNER1", now=NOW)
    expected: date | None = None
    day0 = NOW.date()
    for op, offset in ops:
        day = day0 + timedelta(days=offset)
        line = {"schedule": f'qbr "{name}" {day.isoformat()}', "cancel": f'qbr "{name}" cancel',
                "done": f'qbr "{name}" done {day.isoformat()} notes'}[op]
        reply = run_command(line, caller=Caller("UOWNER1", "C1"), settings=settings, slack=Quiet(), now=NOW)
        if op == "schedule":
            expected = day
        elif op == "cancel":
            assert ("Cancelled" in reply.text) == (expected is not None), reply.text
            expected = None
        elif expected is not None and expected <= day + timedelta(days=7):
            expected = None  # held early, on the day or late: it fulfils the upcoming one
        upcoming = upcoming_qbrs(name)
        assert len(upcoming) <= 1
        assert upcoming == ([expected] if expected else [])


# --- deals ------------------------------------------------------------------------

def test_duplicates_are_refused_and_a_conflict_names_the_earliest_holder(fake_slack, database_url):
    from tests.conftest import serve

    with serve(make_settings(DATABASE_URL=database_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST"), fake_slack) as app:
        for name, owner in (("Acme", "UACME1"), ("Hooli", "UHOOLI1"), ("Initech", "UINIT1")):
            app.command(f"add {name} type:channel", user=owner)
        assert "Registered deal *#1*" in body(app, "deal acme Initrode 10k", user="UACME1")
        first = body(app, 'deal hooli "initrode corp" 20k', user="UHOOLI1")
        assert "*Acme* registered this customer first (deal #1" in first
        # Hooli again, spelled differently: the same customer, refused as a duplicate of its own deal #2.
        dup = body(app, "deal hooli Initrode 30k", user="UHOOLI1")
        assert "*Hooli* already registered *initrode corp*: deal *#2*" in dup and "$20k" in dup.lower() and "nothing was registered" in dup
        # Acme again: a duplicate of its own deal #1, never "Hooli registered first".
        again = body(app, "deal acme INITRODE 15k", user="UACME1")
        assert "*Acme* already registered *Initrode*: deal *#1*" in again and "Hooli" not in again
        assert count(DealRegistration) == 2
        third = body(app, 'deal initech "Initrode, Inc." 5k', user="UINIT1")
        assert "*Acme* registered this customer first (deal #1" in third and "Also registered by *Hooli*" in third
        posts = [texts(c.args["blocks"]) for c in app.fake.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
        assert "first by *Acme*" in posts[-1] and "also held by *Hooli*" in posts[-1]
        with unit_of_work() as s:
            acme_id = s.scalar(select(Partner.id).where(Partner.name == "Acme"))
            assert s.scalar(select(DealRegistration.conflict_with_id).where(DealRegistration.id == 3)) == acme_id


spellings = ["Initrode", "initrode corp", "INITRODE Inc.", "Initrode, LLC"]
registrations = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(spellings), st.integers(0, 60)), min_size=1, max_size=7)


@given(regs=registrations)
@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_conflict_always_names_the_earliest_holder(settings, regs):
    n = next(_serial)
    names = [f"Reseller {n} {letter}" for letter in "ABCD"]
    with unit_of_work() as s:
        for name in names:
            partners.create(session=s, name=name, type="channel", tier=None, owner_id="UOWNER1", stage="active",
                            created_by="UOWNER1", now=NOW)
    held: list[tuple[int, datetime]] = []  # (partner index, registered at), in order
    at = NOW
    for who, spelling, days_later in regs:
        at += timedelta(days=days_later)
        reply = run_command(f'deal "{names[who]}" "Site{n} {spelling}" 1k', caller=Caller("UOWNER1", "C1"),
                            settings=settings, slack=Quiet(), now=at)
        text = texts(reply.blocks)
        holding = [(p, t) for p, t in held if t >= at - timedelta(days=90)]
        if any(p == who for p, _ in holding):
            assert "already registered" in text, text
            continue
        held.append((who, at))
        if holding:
            assert f"*{names[holding[0][0]]}* registered this customer first" in text, text
            for p in {p for p, _ in holding} - {holding[0][0]}:
                assert f"*{names[p]}*" in text.split("Also registered by", 1)[1]
        else:
            assert "Registered deal" in text, text


# --- undo and history ---------------------------------------------------------------

def test_undo_after_reassign_says_why_and_reverses_nothing_older(slack_app):
    slack_app.command("add Globex type:channel", user="UOLD1")
    slack_app.command("link Globex GLOBEX-1", user="UADMIN1")
    assert "Moved *1* partner" in body(slack_app, "reassign <@UOLD1> <@UNEW1>", user="UADMIN1")
    reply = body(slack_app, "undo", user="UADMIN1")
    assert "Your last change, reassign" in reply and "can't be undone" in reply
    assert "reassign back with `/partner reassign` <@UNEW1> <@UOLD1>" in reply
    with unit_of_work() as s:
        assert s.execute(select(Partner.owner_id, Partner.crm_id)).one() == ("UNEW1", "GLOBEX-1")


def test_undo_says_when_the_last_change_is_too_old_or_already_undone(slack_app):
    slack_app.command("add Globex type:channel", user="UOWNER1")
    slack_app.command("log Globex call kickoff", user="UOWNER1")
    with unit_of_work() as s:
        s.execute(update(Change).values(at=datetime.now(UTC) - timedelta(minutes=25)))
    old = body(slack_app, "undo")
    assert "Your last change, logged a call with Globex, was 25 min ago" in old and "last 10 minutes" in old
    with unit_of_work() as s:
        s.execute(update(Change).values(at=datetime.now(UTC)))
    assert "Undone: logged a call with Globex" in body(slack_app, "undo")
    assert "Undone: added Globex" in body(slack_app, "undo")
    assert "Nothing left to undo: your last change, added Globex, was already undone" in body(slack_app, "undo")


def test_undo_does_not_overwrite_someone_elses_newer_change(slack_app):
    slack_app.command("add Globex type:channel", user="UOWNER1")
    slack_app.command("stage Globex active", user="UOWNER1")
    slack_app.command("stage Globex at-risk", user="UADMIN1")
    reply = body(slack_app, "undo", user="UOWNER1")
    assert "followed by <@UADMIN1>'s (moved Globex from active to at-risk" in reply and "nothing was changed" in reply
    with unit_of_work() as s:
        assert s.scalar(select(Partner.stage)) == "at-risk"


def test_undo_is_blocked_only_by_someone_elses_change_to_the_same_thing(slack_app):
    """issue 12 item 14: a newer log, or a rename, by someone else does not block undoing a
    stage change; undoing it restores the stage only and keeps their rename."""
    slack_app.command("add Monthy type:channel", user="U0DEMO1")
    slack_app.command("stage monthy active", user="U0DEMO1")
    slack_app.command("log monthy call hi", user="U0DEMO2")
    slack_app.command("rename monthy Monthly", user="UADMIN1")
    assert "Undone: moved Monthy from onboarding to active" in body(slack_app, "undo", user="U0DEMO1")
    with unit_of_work() as s:
        assert s.execute(select(Partner.name, Partner.stage)).one() == ("Monthly", "onboarding")
    assert count(Change) and "call" in body(slack_app, "status monthly", user="U0DEMO1").lower()


def test_history_lines_carry_the_values_and_absolute_dates(slack_app):
    """issue 12 item 15: what changed, old → new, and dates that stay true later."""
    today = datetime.now(timezone.utc).date()
    ahead = today + timedelta(days=20)
    slack_app.command("add Monthy type:channel", user="UOWNER1")
    slack_app.command("kpi monthy leads 30 period:2026-12", user="UOWNER1")
    slack_app.command("kpi monthy leads 40 period:2026-12", user="UOWNER1")
    slack_app.command("target monthy revenue 50k period:2026-12", user="UOWNER1")
    slack_app.command(f"qbr monthy {ahead.isoformat()}", user="UOWNER1")
    slack_app.command("qbr monthy done", user="UOWNER1")
    slack_app.command("stage monthy active", user="UOWNER1")
    history = body(slack_app, "history monthy", user="UOWNER1")
    assert "set Monthy leads 2026-12 to 30" in history
    assert "set Monthy leads 2026-12: 30 → 40" in history
    assert "set Monthy revenue target 2026-12 to $50K" in history
    assert f"scheduled a QBR with Monthy for {ahead.isoformat()}" in history
    assert f"recorded a QBR with Monthy held {today.isoformat()}" in history and "held today" not in history
    assert "moved Monthy from onboarding to active" in history


def test_history_is_newest_first_and_paged(slack_app):
    slack_app.command("add Globex type:channel", user="UOWNER1")
    for n in range(1, 23):
        slack_app.command(f"log Globex note step {n}", user="UOWNER2" if n % 2 else "UOWNER1")
    slack_app.command("add Other type:channel", user="UOWNER1")
    page1 = slack_app.command("history globex")
    text = texts(page1["blocks"])
    assert "History of Globex* · 23 changes, newest first · page 1 of 2" in text
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 20 and "logged a note with Globex" in lines[0] and "<@UOWNER1>" in lines[0]
    assert "Other" not in text
    button = page1["blocks"][-1]["elements"][0]
    assert button["value"] == "history globex page:2"
    _, url = slack_app.action(Action.PAGE, button["value"])
    page2 = texts(slack_app.reply_to(url)["blocks"])
    assert "page 2 of 2" in page2 and "added Globex" in page2.splitlines()[-2]
    assert "history &lt;partner&gt;" in body(slack_app, "help")
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Change)) == 24  # reading wrote nothing


def test_migration_0012_cancels_duplicate_upcoming_qbrs_and_rekeys_sent_reminders(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from storage import db as storage_db

    engine = storage_db.configure(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(storage_db.MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, "0011")
    with engine.begin() as c:
        c.execute(text("INSERT INTO partners (id, name, name_key, type, owner_id, stage, created_by, created_at, updated_at, stage_changed_at) "
                       "VALUES (1, 'Oceanic', 'oceanic', 'channel', 'U1', 'active', 'U1', '2026-11-01', '2026-11-01', '2026-11-01')"))
        for qbr_id, day in ((1, "2026-12-10"), (2, "2026-12-11")):
            c.execute(text("INSERT INTO qbrs (id, partner_id, scheduled_for, created_by, created_at) VALUES (:id, 1, :day, 'U1', '2026-11-01')"),
                      {"id": qbr_id, "day": day})
        c.execute(text("INSERT INTO notification_ledger (job, subject, period, status, target, payload, attempts, created_at, claimed_at) "
                       "VALUES ('qbr-reminders', 'qbr:1', 'reminder', 'sent', 'U1', '{}', 1, '2026-12-03', '2026-12-03')"))
        c.execute(text("""INSERT INTO changes (user_id, kind, summary, undo, at) VALUES ('U1', 'qbr.add', 'scheduled a QBR with Oceanic', '{"qbr_id": 2}', '2026-11-01')"""))
    command.upgrade(config, "head")
    with engine.begin() as c:
        upcoming = c.execute(text("SELECT id, scheduled_for FROM qbrs WHERE held_on IS NULL AND cancelled_at IS NULL")).all()
        assert [(i, str(d)[:10]) for i, d in upcoming] == [(2, "2026-12-11")]  # the latest intent stays
        assert c.execute(text("SELECT period FROM notification_ledger")).scalar() == "2026-12-10"
        assert c.execute(text("SELECT partner_id FROM changes")).scalar() == 1  # the trail so far shows in history
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(text("UPDATE qbrs SET cancelled_at = NULL WHERE id = 1"))
    command.downgrade(config, "0011")
    with engine.begin() as c:
        assert c.execute(text("SELECT period FROM notification_ledger")).scalar() == "reminder"


# --- issue 12 item 3: a conflict the digest channel refuses goes to the admins by DM -----

def test_a_conflict_the_digest_channel_refuses_goes_to_the_admins_and_the_reply_says_so(fake_slack, database_url):
    from tests.conftest import serve

    settings = make_settings(DATABASE_URL=database_url, PARTNERBOT_DIGEST_CHANNEL="C0DIGEST", PARTNERBOT_ADMINS="UADMIN1,UADMIN2")
    with serve(settings, fake_slack) as app:
        for name, owner in (("Acme", "UACME1"), ("Hooli", "UHOOLI1"), ("Initech", "UINIT1")):
            app.command(f"add {name} type:channel", user=owner)
        body(app, "deal acme Initrode 10k", user="UACME1")
        app.fake.fail_next("chat.postMessage", "channel_is_shared")
        reply = body(app, "deal hooli Initrode 20k", user="UHOOLI1")
        assert "flagged as a *conflict*" in reply and "<#C0DIGEST>" in reply
        assert "shared with another organisation" in reply and "the admins got a DM to approve or reject it" in reply
        assert "An admin will approve or reject it in" not in reply
        posted = {c.args["channel"]: c for c in app.fake.calls_to("chat.postMessage")}
        assert {"UADMIN1", "UADMIN2"} <= set(posted)
        assert posted["UADMIN1"].args["blocks"][-1]["elements"][0]["action_id"] == Action.DEAL_APPROVE

        # Nowhere at all: the registrant is told nobody has been asked.
        app.fake.fail_next("chat.postMessage", "channel_is_shared")
        app.fake.fail_next("chat.postMessage", "cannot_dm_bot", times=2)
        reply = body(app, "deal initech Initrode 5k", user="UINIT1")
        assert "DMs to the admins failed too" in reply and "tell an admin about deal #3" in reply
        assert "got a DM" not in reply and "you'll get a DM with the outcome" not in reply

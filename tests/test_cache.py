"""The rendered-card cache: a second `status` of an unchanged partner reads one
row instead of the record, and every write — through any command, a job or a
bulk statement, in this process or another — shows on the very next card."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, update

from bot.dispatch import run_command
from commands import Caller
from storage import db as storage_db
from storage import kpis, versions
from storage.db import unit_of_work
from storage.models import Partner
from tests.conftest import Quiet, texts

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def status(settings, text="status acme"):
    seen: list[str] = []
    engine = storage_db.engine()
    listener = lambda conn, cursor, statement, *a: seen.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        reply = run_command(text, caller=Caller("UOWNER1"), settings=settings, slack=Quiet(), now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return texts(reply.blocks), len([s for s in seen if s.lstrip().upper().startswith("SELECT")])


def command(settings, text, user="UOWNER1"):
    return run_command(text, caller=Caller(user), settings=settings, slack=Quiet(), now=NOW)


@pytest.fixture
def acme(settings):
    command(settings, "add Acme type:channel")
    return settings


def test_an_unchanged_card_is_served_from_the_cache(acme):
    first, reads = status(acme)
    again, cached_reads = status(acme)
    assert again == first
    assert cached_reads < reads and cached_reads <= 3  # the partner row (by name), not the whole record


@pytest.mark.parametrize("write, shows", [
    ("log acme call pricing review", "pricing review"),
    ("kpi acme revenue 12k", "$12K"),
    ("qbr acme in 5 days", "2026-11-30"),
    ("rename acme Acme Global", "Acme Global"),
    ("stage acme active", "active"),
])
def test_every_command_that_writes_shows_on_the_next_card(acme, write, shows):
    before, _ = status(acme)
    assert shows not in before
    reply = command(acme, write)
    assert not reply.error, reply.text
    after, _ = status(acme, "status acme")
    assert shows in after


def test_a_write_by_another_process_shows_on_the_next_card(acme):
    """Another replica's write reaches this process through the database alone: the version."""
    status(acme)
    with unit_of_work() as session:  # what another process's command would commit
        partner_id = session.query(Partner.id).scalar()
        kpis.set_kpi(session=session, partner_id=partner_id, metric="revenue", month="2026-11", value=Decimal("7000"),
                     user_id="UOTHER", now=NOW)
    after, _ = status(acme)
    assert "$7K" in after or "7,000" in after


def test_a_bulk_statement_bumps_the_version(acme):
    status(acme)
    with unit_of_work() as session:
        before = session.query(Partner.version).scalar()
        session.execute(update(Partner).values(tier="Platinum"))
    with unit_of_work() as session:
        assert session.query(Partner.version).scalar() != before
    after, _ = status(acme)
    assert "Platinum" in after


def test_a_partner_added_again_never_shows_the_old_card(acme):
    command(acme, "log acme call old history")
    assert "old history" in status(acme)[0]
    assert not command(acme, "undo").error  # the log
    assert not command(acme, "undo").error  # the add: the partner is gone
    command(acme, "add Acme type:channel")
    assert "old history" not in status(acme)[0]


def test_the_cache_is_bounded_and_ages(monkeypatch):
    from core.cache import Recent

    clock = [0.0]
    cache = Recent(size=2, max_age=60, clock=lambda: clock[0])
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3
    clock[0] = 61
    assert cache.get("c") is None
    assert versions.cards.size <= 10_000


def test_portfolio_follows_every_write_to_any_of_the_owners_partners(acme):
    command(acme, "add Beta type:channel")
    first, reads = status(acme, "status")
    again, cached_reads = status(acme, "status")
    assert again == first and cached_reads < reads
    assert "1 at risk" not in first
    command(acme, "stage beta at-risk")
    assert "1 at risk" in status(acme, "status")[0]
    command(acme, "add Gamma type:channel")
    assert "Gamma" in status(acme, "status")[0]
    command(acme, "owner gamma <@UOTHER1>")
    assert "Gamma" not in status(acme, "status")[0]


def test_app_home_follows_writes(acme):
    from commands import home as home_page

    def page():
        with unit_of_work(read_only=True) as session:
            return texts(home_page.page(session, user_id="UOWNER1", now=NOW, settings=acme)["blocks"])

    assert "Acme" in page() and "Mon Nov 30 *Acme*" not in page()
    command(acme, "qbr acme in 5 days")
    assert "Mon Nov 30 *Acme*" in page()
    command(acme, "rename acme Acme Global")
    assert "Acme Global" in page()


def test_a_bulk_update_by_id_bumps_those_partners_alone(acme):
    from storage import partners

    command(acme, "add Beta type:channel")
    with unit_of_work() as session:
        before = dict(session.query(Partner.name, Partner.version).all())
        acme_id = session.query(Partner.id).filter(Partner.name == "Acme").scalar()
        partners.update_many(session=session, changes=[{"id": acme_id, "tier": "Gold"}])
    with unit_of_work() as session:
        after = dict(session.query(Partner.name, Partner.version).all())
    assert after["Acme"] != before["Acme"] and after["Beta"] == before["Beta"]
    assert "Gold" in status(acme)[0]


def test_a_savepoint_rolled_back_keeps_the_bump_of_what_came_before(acme):
    status(acme)
    with unit_of_work() as session:
        partner_id = session.query(Partner.id).scalar()
        kpis.set_kpi(session=session, partner_id=partner_id, metric="revenue", month="2026-11", value=Decimal("9000"),
                     user_id="UOTHER", now=NOW)
        session.flush()
        try:
            with session.begin_nested():
                session.execute(update(Partner).values(tier=None))
                raise RuntimeError("a step that failed and was caught")
        except RuntimeError:
            pass
    assert "$9K" in status(acme)[0] or "9,000" in status(acme)[0]

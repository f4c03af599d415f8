"""Partner activity in the partner channel: how many messages people of the partner's
organisation posted there each day (team time) and when the last one was — never
what they said (SPEC §9, "Partner channels").

`partners.partner_active_at` is the latest of those times: health's "no interaction
in N days" counts from the later of it and the last logged interaction, and the card
shows it. Both writes are race-safe on SQLite and PostgreSQL: the day's count is an
INSERT … ON CONFLICT DO UPDATE, and the time only ever moves forward (a conditional
UPDATE), so two deliveries at once, or a late one, never lose a message or go back.

Stored health (storage/health.py) is recomputed only when a message moves the
partner's last activity to a later day: later messages that day cannot change the
score (it counts whole days, and the day's first message already reset them to 0)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.health import NOT_A_SIGNAL
from storage.models import Partner, PartnerActivity

WINDOW_DAYS = 30  # the card's "messages in the last 30 days"


def record_message(*, session: Session, partner_id: int, at: datetime, zone: ZoneInfo) -> None:
    """Count one message posted `at` in the partner's channel by one of its people."""
    day = at.astimezone(zone).date()
    _count(session, partner_id=partner_id, day=day, at=at)
    previous = session.scalar(select(Partner.partner_active_at).where(Partner.id == partner_id))
    later_day = previous is None or day > previous.astimezone(zone).date()
    statement = (
        update(Partner)
        .where(Partner.id == partner_id, or_(Partner.partner_active_at.is_(None), Partner.partner_active_at < at))
        # updated_at keeps its value: a partner's message is not an edit of the partner.
        .values(partner_active_at=at, updated_at=Partner.updated_at)
        .execution_options(synchronize_session=False)
    )
    if not later_day:
        statement = statement.execution_options(**{NOT_A_SIGNAL: True})
    session.execute(statement)


def _count(session: Session, *, partner_id: int, day: date, at: datetime) -> None:
    table = PartnerActivity.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.partner_id, table.c.day],
        set_={
            "messages": table.c.messages + 1,
            "last_at": case((statement.excluded.last_at > table.c.last_at, statement.excluded.last_at), else_=table.c.last_at),
        },
    )
    # The row as parameters (not .values()): the session watches read the partner from them.
    session.execute(statement, {"partner_id": partner_id, "day": day, "messages": 1, "last_at": at})


def messages_in_window(*, session: Session, partner_id: int, today: date) -> int:
    """The partner's messages in its channel over the last WINDOW_DAYS days, today included."""
    since = today - timedelta(days=WINDOW_DAYS - 1)
    total = session.scalar(
        select(func.coalesce(func.sum(PartnerActivity.messages), 0))
        .where(PartnerActivity.partner_id == partner_id, PartnerActivity.day >= since, PartnerActivity.day <= today)
    )
    return int(total or 0)

"""Events API deliveries already handled (de-duplication by `event_id`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import SeenEvent

# Slack retries a delivery three times within about an hour; a day is plenty.
KEEP = timedelta(days=1)


def first_delivery(*, session: Session, event_id: str, now: datetime) -> bool:
    """Record `event_id`; True only the first time it is seen (INSERT … ON CONFLICT DO NOTHING).
    Entries older than a day are pruned on the way."""
    session.execute(delete(SeenEvent).where(SeenEvent.seen_at < now - KEEP))
    values = {"event_id": event_id, "seen_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = pg_insert(SeenEvent).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
    elif dialect == "sqlite":
        statement = sqlite_insert(SeenEvent).values(**values).on_conflict_do_nothing()
    else:  # other databases: the primary key still protects, as an IntegrityError
        statement = insert(SeenEvent).values(**values)
    # RETURNING, not rowcount: drivers disagree on rowcount for INSERT … ON CONFLICT.
    return session.execute(statement.returning(SeenEvent.event_id)).scalar() is not None


def probe_write(*, session: Session, probe_id: str, now: datetime) -> None:
    """A write the caller rolls back: proves the database takes writes (health check)."""
    session.execute(insert(SeenEvent).values(event_id=probe_id, seen_at=now))

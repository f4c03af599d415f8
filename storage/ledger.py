"""The notification ledger and job runs (effectively-once delivery, SPEC §9)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import JobRun, NotificationLedger

CRASHED_AFTER = timedelta(minutes=10)
RETRY_FOR = timedelta(hours=24)


def claim(*, session: Session, job: str, subject: str, period: str, target: str, payload: str, now: datetime) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True if this process now owns the notification."""
    dialect = session.get_bind().dialect.name
    values = dict(job=job, subject=subject, period=period, status="claimed", target=target, payload=payload,
                  attempts=1, created_at=now, claimed_at=now)
    if dialect == "postgresql":
        statement = pg_insert(NotificationLedger).values(**values).on_conflict_do_nothing(constraint="uq_notification_ledger_key")
    elif dialect == "sqlite":
        statement = sqlite_insert(NotificationLedger).values(**values).on_conflict_do_nothing()
    else:  # other databases: the unique constraint still protects, as an IntegrityError
        statement = insert(NotificationLedger).values(**values)
    # RETURNING, not rowcount: drivers disagree on rowcount for INSERT … ON CONFLICT.
    return session.execute(statement.returning(NotificationLedger.id)).scalar() is not None


def message_payload(text: str, blocks: list) -> str:
    """A plain message as the ledger keeps it (the shape jobs.delivery reads back)."""
    return json.dumps({"text": text, "blocks": blocks})


def retake(*, session: Session, job: str, subject: str, period: str, target: str, payload: str, now: datetime) -> bool:
    """Take an existing failed or crashed row for another attempt, with the target
    and message of now (a route may have changed); one process wins it."""
    key = (NotificationLedger.job == job, NotificationLedger.subject == subject, NotificationLedger.period == period)
    result = session.execute(
        update(NotificationLedger)
        .where(*key, or_(NotificationLedger.status == "failed",
                         (NotificationLedger.status == "claimed") & (NotificationLedger.claimed_at < now - CRASHED_AFTER)))
        .values(status="claimed", claimed_at=now, attempts=NotificationLedger.attempts + 1, target=target, payload=payload)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def status_of(*, session: Session, job: str, subject: str, period: str) -> str | None:
    return session.scalar(
        select(NotificationLedger.status).where(
            NotificationLedger.job == job, NotificationLedger.subject == subject, NotificationLedger.period == period
        )
    )


def sent_ts(*, session: Session, job: str, subject: str, period: str) -> tuple[str | None, str | None]:
    row = session.execute(
        select(NotificationLedger.channel, NotificationLedger.ts).where(
            NotificationLedger.job == job, NotificationLedger.subject == subject,
            NotificationLedger.period == period, NotificationLedger.status == "sent",
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


def mark(*, session: Session, job: str, subject: str, period: str, ok: bool, channel: str | None, ts: str | None, error: str | None, now: datetime) -> None:
    session.execute(
        update(NotificationLedger)
        .where(NotificationLedger.job == job, NotificationLedger.subject == subject, NotificationLedger.period == period)
        .values(status="sent" if ok else "failed", channel=channel, ts=ts, error=(error or "")[:120] or None,
                sent_at=now if ok else None)
    )


def retryable(*, session: Session, now: datetime, limit: int = 200) -> list[NotificationLedger]:
    """Failed rows, and claimed rows whose process evidently crashed, from the last 24 hours."""
    return list(
        session.scalars(
            select(NotificationLedger)
            .where(
                NotificationLedger.created_at >= now - RETRY_FOR,
                or_(
                    NotificationLedger.status == "failed",
                    (NotificationLedger.status == "claimed") & (NotificationLedger.claimed_at < now - CRASHED_AFTER),
                ),
            )
            .order_by(NotificationLedger.id)
            .limit(limit)
        )
    )


def reclaim(*, session: Session, row: NotificationLedger, now: datetime) -> bool:
    """Take a failed or crashed row for a retry; only one process wins it."""
    result = session.execute(
        update(NotificationLedger)
        .where(NotificationLedger.id == row.id, NotificationLedger.status == row.status,
               NotificationLedger.claimed_at == row.claimed_at)
        .values(status="claimed", claimed_at=now, attempts=NotificationLedger.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def row_of(*, session: Session, job: str, subject: str, period: str) -> NotificationLedger | None:
    return session.scalar(select(NotificationLedger).where(
        NotificationLedger.job == job, NotificationLedger.subject == subject, NotificationLedger.period == period))


def superseded(*, session: Session, row: NotificationLedger) -> bool:
    """Whether a later notification of the same job and subject exists (an in-place
    update that a newer one replaces: retrying the old one would show old news)."""
    return session.scalar(select(func.count()).select_from(NotificationLedger).where(
        NotificationLedger.job == row.job, NotificationLedger.subject == row.subject, NotificationLedger.id > row.id)) > 0


def retire(*, session: Session, row_id: int) -> None:
    """Never retried again: a newer notification took its place."""
    session.execute(update(NotificationLedger).where(NotificationLedger.id == row_id).values(status="superseded"))


def start_run(*, session: Session, job: str, as_of: datetime, now: datetime) -> int:
    run = JobRun(job=job, as_of=as_of, started_at=now, outcome="running")
    session.add(run)
    session.flush()
    return run.id


def finish_run(*, session: Session, run_id: int, outcome: str, considered: int, sent: int, skipped: int, failed: int, detail: str, now: datetime) -> None:
    session.execute(
        update(JobRun).where(JobRun.id == run_id).values(
            outcome=outcome, considered=considered, sent=sent, skipped=skipped, failed=failed,
            detail=detail[:2000] or None, finished_at=now,
        )
    )


def finished_since(*, session: Session, job: str, since: datetime) -> bool:
    return bool(
        session.scalar(
            select(func.count()).select_from(JobRun).where(JobRun.job == job, JobRun.as_of >= since, JobRun.finished_at.is_not(None))
        )
    )


def last_runs(*, session: Session) -> dict[str, JobRun]:
    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    return {r.job: r for r in session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))}


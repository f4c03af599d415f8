"""Quarterly business reviews.

A QBR is scheduled (upcoming), then held or cancelled. A partner has at most one
upcoming QBR (a partial unique index enforces it); scheduling again moves it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Partner, Qbr

# A QBR held up to this long before the upcoming one's date fulfils it (it was held early).
HELD_EARLY = timedelta(days=7)


def _upcoming():
    return Qbr.held_on.is_(None) & Qbr.cancelled_at.is_(None)


def _lock_partner(session: Session, partner_id: int) -> None:
    """Serialize QBR changes of one partner (PostgreSQL row lock; SQLite writes are serial already)."""
    session.execute(select(Partner.id).where(Partner.id == partner_id).with_for_update())


def scheduled_qbr(*, session: Session, partner_id: int) -> Qbr | None:
    """The partner's one upcoming QBR (its date may have passed without it being recorded)."""
    return session.scalar(select(Qbr).where(Qbr.partner_id == partner_id, _upcoming()))


def schedule_qbr(*, session: Session, partner_id: int, day: date, user_id: str, now: datetime) -> tuple[Qbr, date | None]:
    """Schedule the partner's QBR, or move the upcoming one: (the QBR, the date it moved from)."""
    _lock_partner(session, partner_id)
    qbr = scheduled_qbr(session=session, partner_id=partner_id)
    if qbr is not None:
        moved_from, qbr.scheduled_for = qbr.scheduled_for, day
        session.flush()
        return qbr, moved_from
    qbr = Qbr(partner_id=partner_id, scheduled_for=day, created_by=user_id, created_at=now)
    session.add(qbr)
    session.flush()
    return qbr, None


def cancel_qbr(*, session: Session, partner_id: int, now: datetime) -> Qbr | None:
    """Cancel the upcoming QBR; None when there is none."""
    _lock_partner(session, partner_id)
    qbr = scheduled_qbr(session=session, partner_id=partner_id)
    if qbr is not None:
        qbr.cancelled_at = now
        session.flush()
    return qbr


def next_qbr(*, session: Session, partner_id: int, today: date) -> Qbr | None:
    return session.scalar(
        select(Qbr).where(Qbr.partner_id == partner_id, _upcoming(), Qbr.scheduled_for >= today).limit(1)
    )


def last_qbr(*, session: Session, partner_id: int) -> Qbr | None:
    return session.scalar(
        select(Qbr).where(Qbr.partner_id == partner_id, Qbr.held_on.is_not(None)).order_by(Qbr.held_on.desc(), Qbr.id.desc()).limit(1)
    )


def next_and_last_qbr(*, session: Session, partner_id: int, today: date) -> tuple[Qbr | None, Qbr | None]:
    """The next scheduled and the last held QBR, in one statement."""
    rows = list(
        session.scalars(
            select(Qbr).where(
                Qbr.partner_id == partner_id,
                (Qbr.held_on.is_not(None)) | (_upcoming() & (Qbr.scheduled_for >= today)),
            )
        )
    )
    upcoming = [q for q in rows if q.held_on is None]
    held = [q for q in rows if q.held_on is not None]
    return (min(upcoming, key=lambda q: q.scheduled_for, default=None), max(held, key=lambda q: (q.held_on, q.id), default=None))


def hold_qbr(*, session: Session, partner_id: int, today: date, notes: str | None, user_id: str, now: datetime) -> tuple[Qbr, bool]:
    """Record a QBR held on `today` (the day it was held, which may be in the past).

    It fulfils the upcoming QBR when that one's date is no more than a week after
    it (held early, on the day, or late); otherwise it is recorded on its own
    (created=True) and the upcoming one stays."""
    _lock_partner(session, partner_id)
    pending = scheduled_qbr(session=session, partner_id=partner_id)
    if pending is not None and pending.scheduled_for is not None and pending.scheduled_for > today + HELD_EARLY:
        pending = None
    qbr = pending or Qbr(partner_id=partner_id, scheduled_for=None, created_by=user_id, created_at=now)
    qbr.held_on, qbr.notes = today, notes
    session.add(qbr)
    session.flush()
    return qbr, pending is None


# --- queries for the scheduled jobs (one statement each, whatever the partner count) ---

def upcoming_qbrs(*, session: Session, start: date, end: date, owner_id: str | None = None) -> list[tuple[Qbr, Partner]]:
    return [
        (qbr, partner)
        for qbr, partner in session.execute(
            select(Qbr, Partner)
            .join(Partner, Partner.id == Qbr.partner_id)
            .where(_upcoming(), Qbr.scheduled_for >= start, Qbr.scheduled_for <= end,
                   Partner.stage.not_in(["churned"]), Partner.archived_at.is_(None),
                   *([Partner.owner_id == owner_id] if owner_id else []))
            .order_by(Qbr.scheduled_for, Partner.name_key)
        )
    ]


def _overdue(columns, *, held_before: date, created_before: datetime):
    """A select of `columns` (and the last held date) over the partners overdue for a QBR:
    active / at-risk, older than the interval, with no QBR held since `held_before` and
    none scheduled ahead."""
    last_held = (
        select(Qbr.partner_id, func.max(Qbr.held_on).label("held"))
        .group_by(Qbr.partner_id)
        .subquery()
    )
    scheduled = select(Qbr.partner_id).where(_upcoming(), Qbr.scheduled_for >= held_before)
    return (
        select(*columns, last_held.c.held)
        .outerjoin(last_held, last_held.c.partner_id == Partner.id)
        .where(
            Partner.stage.in_(["active", "at-risk"]),
            Partner.archived_at.is_(None),
            Partner.created_at < created_before,
            (last_held.c.held.is_(None)) | (last_held.c.held < held_before),
            Partner.id.not_in(scheduled),
        )
    ), last_held


def overdue_for_qbr(*, session: Session, held_before: date, created_before: datetime) -> list[tuple[Partner, date | None]]:
    """Active / at-risk partners older than the interval with no QBR held since `held_before`
    and none scheduled ahead."""
    query, last_held = _overdue([Partner], held_before=held_before, created_before=created_before)
    query = query.order_by(last_held.c.held.is_not(None), last_held.c.held, Partner.name_key)
    return [(partner, held) for partner, held in session.execute(query)]


def overdue_by_owner(*, session: Session, held_before: date, created_before: datetime) -> dict[str, int]:
    """owner → how many of their partners overdue_for_qbr lists, counted by the database
    (the digest's owner rows need the counts, not the partners)."""
    query, _ = _overdue([Partner.id, Partner.owner_id], held_before=held_before, created_before=created_before)
    listed = query.subquery()
    return dict(session.execute(select(listed.c.owner_id, func.count()).group_by(listed.c.owner_id)).all())

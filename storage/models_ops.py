"""The machinery's tables, beside the partner record (storage/models.py, which
re-exports them): the notification ledger and job runs (effectively-once jobs),
the webhook outbox, locks, the audit trail of changes, and seen Events API ids."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime, utcnow


class NotificationLedger(Base):
    """Effectively-once delivery: a row is claimed (committed) before the Slack call."""

    __tablename__ = "notification_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed | superseded
    target: Mapped[str] = mapped_column(String(32))  # channel or user ID
    payload: Mapped[str] = mapped_column(Text)  # JSON: text, blocks, thread_of, file
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("job", "subject", "period", name="uq_notification_ledger_key"),
        Index("ix_notification_ledger_status", "status", "claimed_at"),
    )


class JobRun(Base):
    """One run of a scheduled job; start-up catch-up and `/partner jobs` read these."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    considered: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_job_runs_job_as_of", "job", "as_of"),)


class WebhookOutbox(Base):
    """An event for one subscriber, written in the same transaction as the change."""

    __tablename__ = "webhook_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))  # the payload's `id`, fixed across attempts
    event_type: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte, on every attempt
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_webhook_outbox_due", "status", "next_attempt_at"),)


class Lock(Base):
    """A named lock across processes (e.g. one CRM sync at a time)."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Change(Base):
    """The audit trail: a change that happened, with what `/partner undo` needs to reverse it."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    undo: Mapped[str] = mapped_column(Text)  # JSON
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # --- history (migration 0012): the partner a change is about, for `/partner history` ---
    partner_id: Mapped[int | None] = mapped_column(Integer)
    # --- partner channels (migration 0016): the actor's organisation when it is not ours ---
    team_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_changes_user_at", "user_id", "at"),
        Index("ix_changes_partner", "partner_id", "id"),
    )


# --- Security (bot/verify.py, bot/events.py) ---------------------------------


class SeenEvent(Base):
    """An Events API delivery already handled, by `event_id`, kept a day: Slack
    redelivers an event it thinks we missed, and the id is what repeats."""

    __tablename__ = "seen_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_seen_events_seen_at", "seen_at"),)


class DeskForm(Base):
    """A form opened from a partner desk: which channel and partner it belongs to, kept
    here because a form's submission does not say which channel it came from."""

    __tablename__ = "desk_forms"

    view_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # deal | help
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerActivity(Base):
    """Messages external people posted in a partner's channel: a count per day and the
    last time, never the text."""

    __tablename__ = "partner_activity"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())

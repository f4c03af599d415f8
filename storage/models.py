"""The partner manager's record, as SQLAlchemy 2 typed models."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """The one timestamp column type: stored as naive UTC, read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class PartnerType(enum.StrEnum):
    CHANNEL = "channel"
    ALLIANCE = "alliance"
    TECHNOLOGY = "technology"


class Stage(enum.StrEnum):
    PROSPECT = "prospect"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    AT_RISK = "at-risk"
    CHURNED = "churned"


class InteractionKind(enum.StrEnum):
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    NOTE = "note"
    TRAINING = "training"
    DEMO = "demo"


class Base(DeclarativeBase):
    pass


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    # Normalized name (NFKC, casefold, collapsed spaces): unique on every database.
    name_key: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(20), default=Stage.PROSPECT.value)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The last checklist change (None: no step done yet); stalled-onboarding reads it.
    onboarding_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Pinned CRM partner value (`/partner link`); wins over name matching.
    crm_id: Mapped[str | None] = mapped_column(String(120))
    # Archived partners are hidden from lists, App Home and jobs, and kept in exports.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The partner's own Slack channel (`/partner channel`): `status` typed there means this partner.
    slack_channel_id: Mapped[str | None] = mapped_column(String(32))
    # --- Health (migration 0011; storage/health.py keeps these current) ---
    # The one stored score, 0–100 (None until first computed), its reasons (JSON
    # list, worst first), and when it last changed.
    health_score: Mapped[int | None] = mapped_column(Integer)
    health_reasons: Mapped[str | None] = mapped_column(Text)
    health_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped in the transaction of every write that changes what the partner's card shows
    # (storage/versions.py): a rendered card cached under an older version is never served.
    version: Mapped[int] = mapped_column(Integer, default=lambda: secrets.randbits(31), server_default="0")
    # --- Partner channel (migration 0016): the last message an external person posted in
    # the partner's Slack Connect channel (storage/activity.py; never the message text) ---
    partner_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    interactions: Mapped[list[Interaction]] = relationship(back_populates="partner", passive_deletes=True)

    __table_args__ = (
        UniqueConstraint("name_key", name="uq_partners_name_key"),
        Index("ix_partners_owner_stage", "owner_id", "stage"),
        Index("ix_partners_type", "type"),
        Index("ix_partners_stage", "stage"),
        Index("ix_partners_slack_channel", "slack_channel_id"),
        Index("ix_partners_health", "health_score"),  # "at risk" counts and worst-first sorting
        # `list` pages (archived never listed, by name): OFFSET and the total count walk this index alone.
        Index("ix_partners_listed", "archived_at", "name_key"),
    )


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id", ondelete="SET NULL"))
    # Set for interactions from a modal (its view ID): a submission Slack delivers twice is stored once.
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    # `log … next:<date>`: the partner's owner gets a DM that day.
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="interactions")

    __table_args__ = (
        Index("ix_interactions_partner_occurred", "partner_id", "occurred_at"),
        UniqueConstraint("dedupe_key", name="uq_interactions_dedupe_key"),
        Index("ix_interactions_follow_up", "follow_up_on"),
        # --- digest (migration 0014): the week's activity count ---
        Index("ix_interactions_occurred_kind", "occurred_at", "kind"),
    )


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class Route(Base):
    """Where a team's requests go; set at run time by admins, wins over PARTNERBOT_ROUTES."""

    __tablename__ = "routes"

    team: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    usergroup_id: Mapped[str | None] = mapped_column(String(32))  # mentioned in escalations
    sla_hours: Mapped[int | None] = mapped_column(Integer)  # business hours; None: PARTNERBOT_REQUEST_SLA_HOURS (0017)
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HelpRequest(Base):
    """A partner's need routed to legal, product, finance or another team."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    requester_id: Mapped[str] = mapped_column(String(32))
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.OPEN.value)
    channel_id: Mapped[str | None] = mapped_column(String(32))  # where it was posted
    message_ts: Mapped[str | None] = mapped_column(String(32))
    post_error: Mapped[str | None] = mapped_column(String(64))  # why the last post failed
    due_on: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    # The "Ask a team" form that created it: a form submitted twice makes one request.
    view_id: Mapped[str | None] = mapped_column(String(64))
    # --- Partner channel (migration 0016): asked by a partner from its channel ---
    requester_team_id: Mapped[str | None] = mapped_column(String(32))  # the requester's organisation
    category: Mapped[str | None] = mapped_column(String(16))  # the partner-facing category picked
    partner_channel_id: Mapped[str | None] = mapped_column(String(32))  # where the partner asked

    @property
    def from_partner(self) -> bool:
        return self.partner_channel_id is not None

    partner: Mapped[Partner] = relationship()

    __table_args__ = (
        Index("ix_help_requests_status_created", "status", "created_at"),
        Index("ix_help_requests_partner_status", "partner_id", "status"),
        Index("ix_help_requests_requester", "requester_id", "status"),
        UniqueConstraint("view_id", name="uq_help_requests_view_id"),
        # --- digest (migration 0014): the week's activity counts ---
        Index("ix_help_requests_created", "created_at"),
        Index("ix_help_requests_resolved", "resolved_at"),
    )


class OnboardingStep(Base):
    """A checklist step marked done (steps themselves are defined per partner type)."""

    __tablename__ = "onboarding_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))
    done_by: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("partner_id", "step", name="uq_onboarding_steps_partner_step"),)


QBR_UPCOMING = "held_on IS NULL AND cancelled_at IS NULL"


class Qbr(Base):
    """A quarterly business review: scheduled for a day, later held with notes."""

    __tablename__ = "qbrs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    held_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # --- QBR lifecycle (migration 0012): scheduled → held | cancelled ---
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_qbrs_partner_scheduled", "partner_id", "scheduled_for"),
        Index("ix_qbrs_scheduled", "scheduled_for"),
        # At most one upcoming (neither held nor cancelled) QBR per partner, on both databases.
        Index("uq_qbrs_one_upcoming", "partner_id", unique=True,
              sqlite_where=sql_text(QBR_UPCOMING), postgresql_where=sql_text(QBR_UPCOMING)),
    )


class KpiValue(Base):
    """One value per partner, metric, month, source and attribution."""

    __tablename__ = "kpi_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | crm | deals
    attribution: Mapped[str] = mapped_column(String(16), default="sourced")  # sourced | influenced
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    entered_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("partner_id", "metric", "month", "source", "attribution", name="uq_kpi_values_key"),
        Index("ix_kpi_values_month_metric", "month", "metric"),
        # --- digest (migration 0014): the quarter's sourced values, covering ---
        Index("ix_kpi_values_quarter", "month", "attribution", "partner_id", "metric", "source", "value"),
    )


class KpiHistory(Base):
    """Every write of a KPI value, kept: kpi_values holds each key's latest value in place,
    this says what it was at any instant (the digest's change week over week and vs the
    same week last quarter). Written in the transaction of the write (storage/kpis.py);
    `value` None: the value was removed then."""

    __tablename__ = "kpi_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    month: Mapped[str] = mapped_column(String(7))
    source: Mapped[str] = mapped_column(String(16))
    attribution: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # --- migration 0018: a quarter's entries up to an instant ---
        Index("ix_kpi_history_month_at", "month", "at"),
        # a key's entries in time order (also: a partner's deletion cascades by index)
        Index("ix_kpi_history_key", "partner_id", "metric", "month", "source", "attribution", "at"),
    )


class KpiTarget(Base):
    """A joint-business-plan target for a quarter (YYYY-Qn) or a month (YYYY-MM)."""

    __tablename__ = "kpi_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    set_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("partner_id", "metric", "period", name="uq_kpi_targets_key"),
        # --- digest (migration 0014): the quarter's targets, covering ---
        Index("ix_kpi_targets_period", "period", "partner_id", "metric", "value"),
    )


class DealStatus(enum.StrEnum):
    REVIEW = "review"  # submitted by a partner: the owner or an admin approves or rejects it
    REGISTERED = "registered"
    CONFLICT = "conflict"
    APPROVED = "approved"
    REJECTED = "rejected"


class DealRegistration(Base):
    __tablename__ = "deal_registrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    customer: Mapped[str] = mapped_column(String(120))
    customer_key: Mapped[str] = mapped_column(String(120))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    attribution: Mapped[str] = mapped_column(String(16), default="sourced")
    status: Mapped[str] = mapped_column(String(16))
    conflict_with_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    registered_by: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # --- Partner channel (migration 0016): submitted by a partner from its channel ---
    submitted_team_id: Mapped[str | None] = mapped_column(String(32))  # the submitter's organisation
    expected_close: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)  # the partner's own words
    decision_reason: Mapped[str | None] = mapped_column(Text)  # a rejection's reason, shown to the partner

    @property
    def from_partner(self) -> bool:
        return self.submitted_team_id is not None

    partner: Mapped[Partner] = relationship(foreign_keys=[partner_id])
    conflict_with: Mapped[Partner | None] = relationship(foreign_keys=[conflict_with_id])

    __table_args__ = (
        Index("ix_deals_customer_registered", "customer_key", "registered_at"),
        Index("ix_deals_partner_status", "partner_id", "status"),
        # --- digest (migration 0014): the week's activity count ---
        Index("ix_deals_registered", "registered_at"),
    )


# The machinery's tables live in their own module; importing them here keeps one
# `storage.models` for every caller and one metadata for Alembic.
from storage.models_ops import Change, DeskForm, JobRun, Lock, NotificationLedger, PartnerActivity, SeenEvent, WebhookOutbox  # noqa: E402,F401

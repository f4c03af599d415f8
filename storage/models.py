"""The partner manager's record, as SQLAlchemy 2 typed models."""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
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

    interactions: Mapped[list[Interaction]] = relationship(back_populates="partner", passive_deletes=True)

    __table_args__ = (
        UniqueConstraint("name_key", name="uq_partners_name_key"),
        Index("ix_partners_owner_stage", "owner_id", "stage"),
        Index("ix_partners_type", "type"),
        Index("ix_partners_stage", "stage"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="interactions")

    __table_args__ = (Index("ix_interactions_partner_occurred", "partner_id", "occurred_at"),)

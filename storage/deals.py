"""Deal registrations: who holds a customer, registering, deciding conflicts, and the `deals` KPI they feed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from storage.kpis import has_kpi, set_kpi
from storage.models import DealRegistration, DealStatus

CONFLICT_WINDOW = timedelta(days=90)
# A registration holds its customer while it is open (registered, or a conflict
# awaiting a decision) or approved, for CONFLICT_WINDOW after it was made.
HOLDING = (DealStatus.REVIEW, DealStatus.REGISTERED, DealStatus.CONFLICT, DealStatus.APPROVED)
# Waiting for someone of ours to approve or reject: a conflict, or a partner's own submission.
UNDECIDED = (DealStatus.CONFLICT, DealStatus.REVIEW)


def lock_customer(*, session: Session, customer_key: str) -> None:
    """Serialize registrations of one customer, so two at once cannot both be first
    (PostgreSQL advisory lock until commit; SQLite writes are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"deal:{customer_key}"))))


def holding_registrations(*, session: Session, customer_key: str, since: datetime) -> list[DealRegistration]:
    """Open or approved registrations of a customer made since `since`, earliest first, partners loaded."""
    return list(
        session.scalars(
            select(DealRegistration)
            .options(joinedload(DealRegistration.partner))
            .where(
                DealRegistration.customer_key == customer_key,
                DealRegistration.registered_at >= since,
                DealRegistration.status.in_(HOLDING),
            )
            .order_by(DealRegistration.registered_at, DealRegistration.id)
        )
    )


def register_deal(
    *, session: Session, partner_id: int, customer: str, customer_key: str, amount: Decimal, attribution: str,
    conflict_with_id: int | None, user_id: str, now: datetime, submitted_team_id: str | None = None,
    expected_close: date | None = None, notes: str | None = None,
) -> DealRegistration:
    """A registration: a conflict when another partner holds the customer; one submitted
    by a partner (`submitted_team_id`) always waits for review, conflict or not."""
    status = DealStatus.REVIEW if submitted_team_id else DealStatus.CONFLICT if conflict_with_id else DealStatus.REGISTERED
    deal = DealRegistration(
        partner_id=partner_id, customer=customer, customer_key=customer_key, amount=amount, attribution=attribution,
        status=status, conflict_with_id=conflict_with_id, registered_by=user_id, registered_at=now,
        submitted_team_id=submitted_team_id, expected_close=expected_close, notes=notes,
    )
    session.add(deal)
    session.flush()
    return deal


def open_deals(*, session: Session, partner_id: int, limit: int = 5) -> list[DealRegistration]:
    return list(
        session.scalars(
            select(DealRegistration)
            .options(joinedload(DealRegistration.conflict_with))
            .where(DealRegistration.partner_id == partner_id, DealRegistration.status.in_([DealStatus.REGISTERED, *UNDECIDED]))
            .order_by(DealRegistration.registered_at.desc())
            .limit(limit)
        )
    )


def decide_deal(*, session: Session, deal_id: int, approve: bool, user_id: str, now: datetime, reason: str | None = None) -> bool:
    """Atomic: a conflict (or a partner's submission) is decided once."""
    result = session.execute(
        update(DealRegistration)
        .where(DealRegistration.id == deal_id, DealRegistration.status.in_(UNDECIDED))
        .values(status=DealStatus.APPROVED if approve else DealStatus.REJECTED, decided_by=user_id, decided_at=now,
                decision_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def refresh_deal_kpi(*, session: Session, partner_id: int, month: str, since: datetime, until: datetime, now: datetime) -> None:
    """The `deals` KPI from registrations (source `deals`): registered or approved deals in the month."""
    counts = dict(
        session.execute(
            select(DealRegistration.attribution, func.count())
            .where(
                DealRegistration.partner_id == partner_id,
                DealRegistration.status.in_([DealStatus.REGISTERED, DealStatus.APPROVED]),
                DealRegistration.registered_at >= since,
                DealRegistration.registered_at < until,
            )
            .group_by(DealRegistration.attribution)
        ).all()
    )
    for attribution in ("sourced", "influenced"):
        if counts.get(attribution) or has_kpi(session=session, partner_id=partner_id, metric="deals", month=month,
                                              source="deals", attribution=attribution):
            set_kpi(session=session, partner_id=partner_id, metric="deals", month=month, value=Decimal(counts.get(attribution, 0)),
                    user_id=None, now=now, source="deals", attribution=attribution)

"""The partner-facing scorecard's facts: only what a partner may see of its own record.

Read here, and only here, for anything that goes to a partner (its Slack Connect
channel, or one of its people). The result holds plain values, never ORM rows:
a view cannot reach a deal's conflicting partner, a request's notes or the
partner's health through it. Sections not named in `settings.scorecard_fields`
are not even read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.settings import HELP_CATEGORIES, SCORECARD_FIELDS, Settings
from storage import kpis, qbrs
from storage.deals import UNDECIDED
from storage.health_rule import quarter_progress
from storage.kpis import Attainment
from storage.models import DealRegistration, DealStatus, HelpRequest, Partner, RequestStatus
from storage.periods import local_today, month_bounds

# What a partner is told of each deal status: a conflict looks exactly like any other
# deal waiting for a decision, so the existence of another partner never shows.
DEAL_STATUS = {
    DealStatus.REVIEW: "under review",
    DealStatus.CONFLICT: "under review",
    DealStatus.REGISTERED: "registered",
    DealStatus.APPROVED: "approved",
    DealStatus.REJECTED: "rejected",
}
REQUEST_STATUS = {RequestStatus.OPEN: "received", RequestStatus.CLAIMED: "in progress", RequestStatus.RESOLVED: "resolved"}
RESOLVED_SHOWN = timedelta(days=30)  # resolved requests stay on the scorecard this long
MAX_ROWS = 20  # deals, and requests, listed; the rest are counted


@dataclass(frozen=True)
class ScorecardDeal:
    customer: str
    amount: Decimal
    status: str  # the partner-facing status (DEAL_STATUS)
    registered_at: datetime
    expected_close: date | None = None
    reason: str | None = None  # why it was rejected, when we said


@dataclass(frozen=True)
class ScorecardRequest:
    category: str  # the label the partner picked (HELP_CATEGORIES)
    status: str  # the partner-facing status (REQUEST_STATUS)
    asked_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class ScorecardData:
    partner_name: str
    quarter: str
    elapsed: float  # share of the quarter passed, 0–1
    fields: tuple[str, ...]  # the sections shown, in SCORECARD_FIELDS order
    kpis: tuple[Attainment, ...] = ()
    deals: tuple[ScorecardDeal, ...] = ()
    more_deals: int = 0
    next_qbr: date | None = None
    requests: tuple[ScorecardRequest, ...] = ()
    more_requests: int = 0


def scorecard_data(session: Session, partner: Partner, *, now: datetime, settings: Settings) -> ScorecardData:
    """The partner's scorecard as of `now`: the whitelisted sections only."""
    fields = tuple(f for f in SCORECARD_FIELDS if f in settings.scorecard_fields)
    zone = settings.zone
    quarter, months, elapsed = quarter_progress(now, zone, settings.fiscal_year_start)
    found: dict[str, Any] = {}
    if "kpis" in fields:
        attained = kpis.quarter_attainment(session=session, partner_id=partner.id, months=months, quarter=quarter,
                                           as_of=now, zone=zone)
        found["kpis"] = tuple(a for a in attained if a.target or a.actual)
    if "deals" in fields:
        since, until = month_bounds(months[0], zone)[0], month_bounds(months[-1], zone)[1]
        found["deals"], found["more_deals"] = own_deals(session=session, partner_id=partner.id, since=since, until=until)
    if "qbr" in fields:
        upcoming = qbrs.next_qbr(session=session, partner_id=partner.id, today=local_today(now, zone))
        found["next_qbr"] = upcoming.scheduled_for if upcoming else None
    if "requests" in fields:
        found["requests"], found["more_requests"] = asked_from_channel(session=session, partner_id=partner.id, now=now)
    return ScorecardData(partner.name, quarter, elapsed, fields, **found)


def own_deals(*, session: Session, partner_id: int, since: datetime, until: datetime) -> tuple[tuple[ScorecardDeal, ...], int]:
    """The partner's registrations made in [since, until), plus any still undecided, newest
    first (at most MAX_ROWS), and how many more there are."""
    where = [
        DealRegistration.partner_id == partner_id,
        or_(and_(DealRegistration.registered_at >= since, DealRegistration.registered_at < until),
            DealRegistration.status.in_(UNDECIDED)),
    ]
    rows = session.execute(
        select(DealRegistration.customer, DealRegistration.amount, DealRegistration.status, DealRegistration.registered_at,
               DealRegistration.expected_close,
               # A reason given for the partner's own submission only (one for a conflict may name another partner).
               case((DealRegistration.submitted_team_id.is_not(None), DealRegistration.decision_reason)))
        .where(*where).order_by(DealRegistration.registered_at.desc(), DealRegistration.id.desc()).limit(MAX_ROWS)
    ).all()
    deals = tuple(
        ScorecardDeal(customer, amount, DEAL_STATUS.get(status, "under review"), registered_at, expected_close,
                      reason if status == DealStatus.REJECTED else None)
        for customer, amount, status, registered_at, expected_close, reason in rows
    )
    return deals, _beyond(session, DealRegistration, where, len(deals))


def asked_from_channel(*, session: Session, partner_id: int, now: datetime) -> tuple[tuple[ScorecardRequest, ...], int]:
    """Requests the partner itself asked from its channel: open ones, and those resolved in
    the last RESOLVED_SHOWN; newest first (at most MAX_ROWS), and how many more there are."""
    where = [
        HelpRequest.partner_id == partner_id,
        HelpRequest.partner_channel_id.is_not(None),
        or_(HelpRequest.status != RequestStatus.RESOLVED, HelpRequest.resolved_at >= now - RESOLVED_SHOWN),
    ]
    rows = session.execute(
        select(HelpRequest.category, HelpRequest.status, HelpRequest.created_at, HelpRequest.resolved_at)
        .where(*where).order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc()).limit(MAX_ROWS)
    ).all()
    asked = tuple(
        ScorecardRequest(HELP_CATEGORIES.get(category or "", HELP_CATEGORIES["other"]), REQUEST_STATUS.get(status, "received"),
                         created_at, resolved_at if status == RequestStatus.RESOLVED else None)
        for category, status, created_at, resolved_at in rows
    )
    return asked, _beyond(session, HelpRequest, where, len(asked))


def _beyond(session: Session, model: Any, where: list[Any], shown: int) -> int:
    """How many rows match beyond the `shown` ones (counted only when the list is full)."""
    if shown < MAX_ROWS:
        return 0
    return (session.scalar(select(func.count()).select_from(model).where(*where)) or 0) - shown

"""The QBR brief's facts (`/partner qbr <partner> brief`): an internal pack for the
partner's owner. Internal: it may hold everything the record knows, so it never goes
to a partner (the partner's own view is storage/scorecard.py)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from core.settings import Settings
from storage import health, kpis, onboarding, partners, qbrs
from storage.health_rule import Health, quarter_progress
from storage.kpis import Attainment
from storage.models import DealRegistration, DealStatus, HelpRequest, Interaction, Partner, RequestStatus, Stage
from storage.periods import local_today, month_bounds, month_of, quarter_months, quarter_of

REQUEST_KIND = "request"  # interactions a request's steps write (storage/requests.log_step), not a touch by the owner
MAX_LISTED = 5  # overdue follow-ups and open conflicts named in the brief


@dataclass(frozen=True)
class KpiChange:
    """A metric this quarter (as of now) beside the whole of last quarter."""

    now: Attainment
    last: Attainment


@dataclass(frozen=True)
class DealTally:
    status: str
    count: int
    value: Decimal


@dataclass(frozen=True)
class RequestCycle:
    """Requests asked this quarter, by status, and how long they took (medians)."""

    asked: int = 0
    from_partner: int = 0  # asked by the partner from its channel
    open: int = 0
    claimed: int = 0
    resolved: int = 0
    to_claim: timedelta | None = None
    to_resolve: timedelta | None = None


@dataclass(frozen=True)
class FollowUp:
    on: date
    summary: str


@dataclass(frozen=True)
class Conflict:
    customer: str
    amount: Decimal
    other: str | None  # the partner that registered the customer first


@dataclass(frozen=True)
class BriefData:
    partner_id: int
    name: str
    owner_id: str
    stage: str
    quarter: str
    last_quarter: str
    elapsed: float  # share of the quarter passed, 0–1
    health: Health
    kpis: tuple[KpiChange, ...]
    deals: tuple[DealTally, ...]
    requests: RequestCycle
    interactions: tuple[tuple[str, int], ...]  # (kind, count) this quarter, most first
    partner_active_on: date | None  # the team's day the partner's people last wrote in its channel
    steps: tuple[tuple[str, str], ...]  # the type's onboarding checklist: (key, label)
    steps_done: frozenset[str]
    next_qbr: date | None
    last_qbr: date | None
    overdue_follow_ups: tuple[FollowUp, ...]
    conflicts: tuple[Conflict, ...]
    stalled_days: int | None  # days the onboarding checklist has not moved, when stalled
    channel_id: str | None  # the linked partner channel (where a scorecard can be shared)


def previous_quarter(months: list[str], *, fiscal_start: int) -> tuple[str, list[str]]:
    """The fiscal quarter before the one made of `months`, and its months."""
    year, month = int(months[0][:4]), int(months[0][5:7])
    before = month_of(date(year - (month == 1), (month - 2) % 12 + 1, 1))
    quarter = quarter_of(before, fiscal_start=fiscal_start)
    return quarter, quarter_months(quarter, fiscal_start=fiscal_start)


def brief_data(session: Session, partner: Partner, *, now: datetime, settings: Settings) -> BriefData:
    zone, fiscal = settings.zone, settings.fiscal_year_start
    quarter, months, elapsed = quarter_progress(now, zone, fiscal)
    last_quarter, last_months = previous_quarter(months, fiscal_start=fiscal)
    since, until = month_bounds(months[0], zone)[0], month_bounds(months[-1], zone)[1]
    today = local_today(now, zone)
    this = kpis.quarter_attainment(session=session, partner_id=partner.id, months=months, quarter=quarter, as_of=now, zone=zone)
    last = {a.metric: a for a in kpis.quarter_attainment(session=session, partner_id=partner.id, months=last_months,
                                                         quarter=last_quarter, zone=zone)}
    next_qbr, last_qbr = qbrs.next_and_last_qbr(session=session, partner_id=partner.id, today=today)
    return BriefData(
        partner_id=partner.id, name=partner.name, owner_id=partner.owner_id, stage=partner.stage,
        quarter=quarter, last_quarter=last_quarter, elapsed=elapsed,
        health=health.current(session, partner),
        kpis=tuple(KpiChange(a, last[a.metric]) for a in this
                   if a.target or a.actual or last[a.metric].actual or last[a.metric].target),
        deals=deal_tally(session=session, partner_id=partner.id, since=since, until=until),
        requests=request_cycle(session=session, partner_id=partner.id, since=since, until=until),
        interactions=interactions_by_kind(session=session, partner_id=partner.id, since=since, until=until),
        partner_active_on=_local_day(partner.partner_active_at, zone),
        steps=tuple(onboarding.STEPS.get(partner.type, [])),
        steps_done=frozenset(onboarding.steps_done(session=session, partner_id=partner.id)),
        next_qbr=next_qbr.scheduled_for if next_qbr else None,
        last_qbr=last_qbr.held_on if last_qbr else None,
        overdue_follow_ups=overdue_follow_ups(session=session, partner_id=partner.id, today=today, zone=zone),
        conflicts=open_conflicts(session=session, partner_id=partner.id),
        stalled_days=_stalled_days(partner, now=now, stall_days=settings.stall_days),
        channel_id=partners.channel_of(session=session, partner_id=partner.id),
    )


def deal_tally(*, session: Session, partner_id: int, since: datetime, until: datetime) -> tuple[DealTally, ...]:
    """Registrations made in [since, until): count and value by status, in DealStatus order."""
    rows = session.execute(
        select(DealRegistration.status, func.count(), func.sum(DealRegistration.amount))
        .where(DealRegistration.partner_id == partner_id, DealRegistration.registered_at >= since,
               DealRegistration.registered_at < until)
        .group_by(DealRegistration.status)
    ).all()
    found = {status: DealTally(status, count, Decimal(0) + (value or 0)) for status, count, value in rows}
    return tuple(found[s] for s in DealStatus if s in found)


def request_cycle(*, session: Session, partner_id: int, since: datetime, until: datetime) -> RequestCycle:
    """Requests asked in [since, until): how many, where from, where they stand, and the
    median time from asking to being claimed and to being resolved."""
    rows = session.execute(
        select(HelpRequest.status, HelpRequest.partner_channel_id, HelpRequest.created_at, HelpRequest.claimed_at,
               HelpRequest.resolved_at)
        .where(HelpRequest.partner_id == partner_id, HelpRequest.created_at >= since, HelpRequest.created_at < until)
    ).all()
    if not rows:
        return RequestCycle()
    by_status = {s: sum(1 for r in rows if r.status == s) for s in RequestStatus}
    return RequestCycle(
        asked=len(rows), from_partner=sum(1 for r in rows if r.partner_channel_id is not None),
        open=by_status[RequestStatus.OPEN], claimed=by_status[RequestStatus.CLAIMED], resolved=by_status[RequestStatus.RESOLVED],
        to_claim=_median([r.claimed_at - r.created_at for r in rows if r.claimed_at]),
        to_resolve=_median([r.resolved_at - r.created_at for r in rows if r.resolved_at]),
    )


def _median(spans: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(s.total_seconds() for s in spans)) if spans else None


def interactions_by_kind(*, session: Session, partner_id: int, since: datetime, until: datetime) -> tuple[tuple[str, int], ...]:
    """Interactions logged in [since, until) by kind, most first (a request's own steps left out)."""
    count = func.count().label("n")
    rows = session.execute(
        select(Interaction.kind, count)
        .where(Interaction.partner_id == partner_id, Interaction.kind != REQUEST_KIND,
               Interaction.occurred_at >= since, Interaction.occurred_at < until)
        .group_by(Interaction.kind)
    ).all()
    return tuple(sorted(((kind, n) for kind, n in rows), key=lambda r: (-r[1], r[0])))


def overdue_follow_ups(*, session: Session, partner_id: int, today: date, zone: ZoneInfo) -> tuple[FollowUp, ...]:
    """Follow-ups whose date has passed with nothing logged since (a request's steps aside), oldest first."""
    last_touch = session.scalar(
        select(func.max(Interaction.occurred_at)).where(Interaction.partner_id == partner_id, Interaction.kind != REQUEST_KIND)
    )
    rows = session.execute(
        select(Interaction.follow_up_on, Interaction.summary)
        .where(Interaction.partner_id == partner_id, Interaction.follow_up_on.is_not(None), Interaction.follow_up_on < today)
        .order_by(Interaction.follow_up_on, Interaction.id)
    ).all()
    touched = _local_day(last_touch, zone)
    return tuple(FollowUp(on, summary) for on, summary in rows if touched is None or touched < on)[:MAX_LISTED]


def _local_day(value: datetime | None, zone: ZoneInfo) -> date | None:
    """The team's day of a stored time (func.max() may lose the column type: naive is UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(zone).date()


def open_conflicts(*, session: Session, partner_id: int) -> tuple[Conflict, ...]:
    """Deal conflicts waiting for a decision (flagged, or a partner's own submission that clashes
    with another partner's registration), with the partner that registered the customer first."""
    other = aliased(Partner)
    rows = session.execute(
        select(DealRegistration.customer, DealRegistration.amount, other.name)
        .outerjoin(other, other.id == DealRegistration.conflict_with_id)
        .where(DealRegistration.partner_id == partner_id, or_(
            DealRegistration.status == DealStatus.CONFLICT,
            (DealRegistration.status == DealStatus.REVIEW) & DealRegistration.conflict_with_id.is_not(None)))
        .order_by(DealRegistration.registered_at, DealRegistration.id).limit(MAX_LISTED)
    ).all()
    return tuple(Conflict(customer, amount, name) for customer, amount, name in rows)


def _stalled_days(partner: Partner, *, now: datetime, stall_days: int) -> int | None:
    """Days since the onboarding checklist last moved, when it is stalled (the same rule as the job's)."""
    if partner.stage != Stage.ONBOARDING:
        return None
    days = (now - (partner.onboarding_changed_at or partner.created_at)).days
    return days if days >= stall_days else None

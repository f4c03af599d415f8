"""The partner manager's record: onboarding, QBRs, KPIs and targets, deal registrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import DealRegistration, DealStatus, Interaction, KpiTarget, KpiValue, OnboardingStep, Partner, Qbr

# Onboarding checklists by partner type: (key, label).
STEPS: dict[str, list[tuple[str, str]]] = {
    "channel": [
        ("agreement", "Agreement signed"),
        ("portal", "Portal access"),
        ("training", "Sales training"),
        ("first-deal", "First deal registered"),
    ],
    "alliance": [
        ("agreement", "Agreement signed"),
        ("sponsor", "Executive sponsor named"),
        ("joint-plan", "Joint plan agreed"),
        ("co-marketing", "Co-marketing launched"),
    ],
    "technology": [
        ("agreement", "Agreement signed"),
        ("sandbox", "Sandbox access"),
        ("integration", "Integration built"),
        ("certified", "Integration certified"),
        ("marketplace", "Listed in marketplace"),
    ],
}
METRICS = ("revenue", "leads", "adoption", "deals")
CONFLICT_WINDOW = timedelta(days=90)
SOURCE_PRECEDENCE = ("manual", "crm", "deals")


# --- onboarding ------------------------------------------------------------------

def steps_done(*, session: Session, partner_id: int) -> dict[str, OnboardingStep]:
    return {s.step: s for s in session.scalars(select(OnboardingStep).where(OnboardingStep.partner_id == partner_id))}


def mark_step(*, session: Session, partner: Partner, step: str, user_id: str, now: datetime) -> bool:
    """Mark a step done; False if it already was."""
    if session.scalar(select(OnboardingStep.id).where(OnboardingStep.partner_id == partner.id, OnboardingStep.step == step)):
        return False
    session.add(OnboardingStep(partner_id=partner.id, step=step, done_by=user_id, done_at=now))
    partner.onboarding_changed_at = now
    session.flush()
    return True


def unmark_step(*, session: Session, partner: Partner, step: str, now: datetime) -> bool:
    result = session.execute(delete(OnboardingStep).where(OnboardingStep.partner_id == partner.id, OnboardingStep.step == step))
    if result.rowcount:
        partner.onboarding_changed_at = now
        session.flush()
    return bool(result.rowcount)


# --- QBRs --------------------------------------------------------------------------
# A QBR is scheduled (upcoming), then held or cancelled. A partner has at most one
# upcoming QBR (a partial unique index enforces it); scheduling again moves it.

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


# --- KPIs and targets --------------------------------------------------------------

def set_kpi(
    *, session: Session, partner_id: int, metric: str, month: str, value: Decimal, user_id: str | None,
    now: datetime, source: str = "manual", attribution: str = "sourced",
) -> Decimal | None:
    """Set one value; returns the value it replaced."""
    row = session.scalar(
        select(KpiValue).where(
            KpiValue.partner_id == partner_id, KpiValue.metric == metric, KpiValue.month == month,
            KpiValue.source == source, KpiValue.attribution == attribution,
        )
    )
    previous = row.value if row else None
    if row is None:
        session.add(KpiValue(partner_id=partner_id, metric=metric, month=month, source=source,
                             attribution=attribution, value=value, entered_by=user_id, updated_at=now))
    else:
        row.value, row.entered_by, row.updated_at = value, user_id, now
    session.flush()
    return previous


def set_target(*, session: Session, partner_id: int, metric: str, period: str, value: Decimal, user_id: str, now: datetime) -> Decimal | None:
    row = session.scalar(select(KpiTarget).where(KpiTarget.partner_id == partner_id, KpiTarget.metric == metric, KpiTarget.period == period))
    previous = row.value if row else None
    if row is None:
        session.add(KpiTarget(partner_id=partner_id, metric=metric, period=period, value=value, set_by=user_id, updated_at=now))
    else:
        row.value, row.set_by, row.updated_at = value, user_id, now
    session.flush()
    return previous


@dataclass(frozen=True)
class Attainment:
    metric: str
    actual: Decimal
    influenced: Decimal
    target: Decimal | None

    @property
    def ratio(self) -> float | None:
        return float(self.actual / self.target) if self.target else None


def effective_values(rows: list[tuple[str, str, str, str, Decimal]]) -> dict[tuple[str, str, str], Decimal]:
    """(metric, month, attribution) → value, taking the highest-precedence source
    (manual, then CRM, then deal registrations)."""
    best: dict[tuple[str, str, str], tuple[int, Decimal]] = {}
    for metric, month, source, attribution, value in rows:
        rank = SOURCE_PRECEDENCE.index(source) if source in SOURCE_PRECEDENCE else len(SOURCE_PRECEDENCE)
        key = (metric, month, attribution)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, value)
    return {k: v for k, (_, v) in best.items()}


def quarter_attainment(*, session: Session, partner_id: int, months: list[str], quarter: str) -> list[Attainment]:
    """Actual vs target per metric for a quarter: sums of months, except adoption (latest month)."""
    rows = session.execute(
        select(KpiValue.metric, KpiValue.month, KpiValue.source, KpiValue.attribution, KpiValue.value).where(
            KpiValue.partner_id == partner_id, KpiValue.month.in_(months)
        )
    ).all()
    values = effective_values([tuple(r) for r in rows])
    # A quarter target wins; otherwise the month targets add up to one.
    targets: dict[str, Decimal] = {}
    monthly: dict[str, Decimal] = {}
    for metric, period, value in session.execute(
        select(KpiTarget.metric, KpiTarget.period, KpiTarget.value).where(
            KpiTarget.partner_id == partner_id, KpiTarget.period.in_([quarter, *months])
        )
    ):
        if period == quarter:
            targets[metric] = value
        else:
            monthly[metric] = monthly.get(metric, Decimal(0)) + value
    for metric, value in monthly.items():
        targets.setdefault(metric, value)
    result = []
    for metric in METRICS:
        def total(attribution: str) -> Decimal:
            picked = [(m, v) for (mt, m, a), v in values.items() if mt == metric and a == attribution]
            if metric == "adoption":
                return max(picked)[1] if picked else Decimal(0)
            return sum((v for _, v in picked), Decimal(0))

        result.append(Attainment(metric, total("sourced"), total("influenced"), targets.get(metric)))
    return result


# --- deal registration ---------------------------------------------------------------

# A registration holds its customer while it is open (registered, or a conflict
# awaiting a decision) or approved, for CONFLICT_WINDOW after it was made.
HOLDING = (DealStatus.REGISTERED, DealStatus.CONFLICT, DealStatus.APPROVED)


def lock_customer(*, session: Session, customer_key: str) -> None:
    """Serialize registrations of one customer, so two at once cannot both be first
    (PostgreSQL advisory lock until commit; SQLite writes are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"deal:{customer_key}"))))


def holding_registrations(*, session: Session, customer_key: str, since: datetime) -> list[DealRegistration]:
    """Open or approved registrations of a customer made since `since`, earliest first, partners loaded."""
    from sqlalchemy.orm import joinedload

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
    conflict_with_id: int | None, user_id: str, now: datetime,
) -> DealRegistration:
    deal = DealRegistration(
        partner_id=partner_id, customer=customer, customer_key=customer_key, amount=amount, attribution=attribution,
        status=DealStatus.CONFLICT if conflict_with_id else DealStatus.REGISTERED, conflict_with_id=conflict_with_id,
        registered_by=user_id, registered_at=now,
    )
    session.add(deal)
    session.flush()
    return deal


def open_deals(*, session: Session, partner_id: int, limit: int = 5) -> list[DealRegistration]:
    from sqlalchemy.orm import joinedload

    return list(
        session.scalars(
            select(DealRegistration)
            .options(joinedload(DealRegistration.conflict_with))
            .where(DealRegistration.partner_id == partner_id, DealRegistration.status.in_([DealStatus.REGISTERED, DealStatus.CONFLICT]))
            .order_by(DealRegistration.registered_at.desc())
            .limit(limit)
        )
    )


def decide_deal(*, session: Session, deal_id: int, approve: bool, user_id: str, now: datetime) -> bool:
    """Atomic: a conflict is decided once."""
    result = session.execute(
        update(DealRegistration)
        .where(DealRegistration.id == deal_id, DealRegistration.status == DealStatus.CONFLICT)
        .values(status=DealStatus.APPROVED if approve else DealStatus.REJECTED, decided_by=user_id, decided_at=now)
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
        if counts.get(attribution) or session.scalar(
            select(KpiValue.id).where(KpiValue.partner_id == partner_id, KpiValue.metric == "deals", KpiValue.month == month,
                                      KpiValue.source == "deals", KpiValue.attribution == attribution)
        ):
            set_kpi(session=session, partner_id=partner_id, metric="deals", month=month, value=Decimal(counts.get(attribution, 0)),
                    user_id=None, now=now, source="deals", attribution=attribution)


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


def overdue_for_qbr(*, session: Session, held_before: date, created_before: datetime) -> list[tuple[Partner, date | None]]:
    """Active / at-risk partners older than the interval with no QBR held since `held_before`
    and none scheduled ahead."""
    last_held = (
        select(Qbr.partner_id, func.max(Qbr.held_on).label("held"))
        .group_by(Qbr.partner_id)
        .subquery()
    )
    scheduled = select(Qbr.partner_id).where(_upcoming(), Qbr.scheduled_for >= held_before)
    query = (
        select(Partner, last_held.c.held)
        .outerjoin(last_held, last_held.c.partner_id == Partner.id)
        .where(
            Partner.stage.in_(["active", "at-risk"]),
            Partner.archived_at.is_(None),
            Partner.created_at < created_before,
            (last_held.c.held.is_(None)) | (last_held.c.held < held_before),
            Partner.id.not_in(scheduled),
        )
        .order_by(last_held.c.held.is_not(None), last_held.c.held, Partner.name_key)
    )
    return [(partner, held) for partner, held in session.execute(query)]


def stalled_onboarding(*, session: Session, since: datetime, owner_id: str | None = None) -> list[tuple[Partner, set[str]]]:
    """Partners in onboarding whose checklist has not moved since `since`, with their done steps (one statement)."""
    last_change = func.coalesce(Partner.onboarding_changed_at, Partner.created_at)
    query = (
        select(Partner, OnboardingStep.step)
        .outerjoin(OnboardingStep, OnboardingStep.partner_id == Partner.id)
        .where(Partner.stage == "onboarding", last_change <= since, Partner.archived_at.is_(None),
               *([Partner.owner_id == owner_id] if owner_id else []))
        .order_by(last_change, Partner.name_key, Partner.id)
    )
    found: dict[int, tuple[Partner, set[str]]] = {}
    for partner, step in session.execute(query):
        entry = found.setdefault(partner.id, (partner, set()))
        if step:
            entry[1].add(step)
    return list(found.values())


def stalled_rows(*, session: Session, now: datetime, stall_days: int, owner_id: str | None = None) -> list[tuple[Partner, str | None, int]]:
    """(partner, the step it is stuck on, days since its checklist last moved)."""
    out = []
    for partner, done in stalled_onboarding(session=session, since=now - timedelta(days=stall_days), owner_id=owner_id):
        step = next((label for key, label in STEPS.get(partner.type, []) if key not in done), None)
        out.append((partner, step, (now - (partner.onboarding_changed_at or partner.created_at)).days))
    return out


def totals_for_months(*, session: Session, months: list[str]) -> dict[str, Decimal]:
    """Workspace totals per metric over months (sourced; adoption averaged over partners' latest)."""
    rows = session.execute(
        select(KpiValue.partner_id, KpiValue.metric, KpiValue.month, KpiValue.source, KpiValue.attribution, KpiValue.value)
        .where(KpiValue.month.in_(months), KpiValue.attribution == "sourced")
    ).all()
    by_partner: dict[int, list] = {}
    for partner_id, *rest in rows:
        by_partner.setdefault(partner_id, []).append(tuple(rest))
    totals = {m: Decimal(0) for m in METRICS}
    adoption: list[Decimal] = []
    for values in by_partner.values():
        effective = effective_values(values)
        latest_adoption = max(((month, v) for (metric, month, _), v in effective.items() if metric == "adoption"), default=None)
        if latest_adoption:
            adoption.append(latest_adoption[1])
        for (metric, _, _), value in effective.items():
            if metric != "adoption":
                totals[metric] += value
    totals["adoption"] = (sum(adoption, Decimal(0)) / len(adoption)).quantize(Decimal("0.1")) if adoption else Decimal(0)
    return totals


def partner_revenue(*, session: Session, months: list[str], limit: int = 5) -> list[tuple[str, Decimal]]:
    """Top partners by quarter-to-date sourced revenue (highest-precedence source per month)."""
    rows = session.execute(
        select(Partner.name, KpiValue.metric, KpiValue.month, KpiValue.source, KpiValue.attribution, KpiValue.value)
        .join(Partner, Partner.id == KpiValue.partner_id)
        .where(KpiValue.month.in_(months), KpiValue.metric == "revenue", KpiValue.attribution == "sourced")
    ).all()
    per: dict[str, list] = {}
    for name, *rest in rows:
        per.setdefault(name, []).append(tuple(rest))
    totals = [(name, sum(effective_values(v).values(), Decimal(0))) for name, v in per.items()]
    return sorted(totals, key=lambda t: (-t[1], t[0]))[:limit]


def target_totals(*, session: Session, quarter: str, months: list[str]) -> dict[str, Decimal]:
    rows = session.execute(
        select(KpiTarget.metric, func.sum(KpiTarget.value)).where(KpiTarget.period.in_([quarter, *months])).group_by(KpiTarget.metric)
    ).all()
    return {metric: value for metric, value in rows}


def follow_ups(*, session: Session, start: date, end: date) -> list[tuple[Interaction, Partner]]:
    """Interactions whose follow-up date falls in [start, end], with their partner."""
    return [
        (interaction, partner)
        for interaction, partner in session.execute(
            select(Interaction, Partner)
            .join(Partner, Partner.id == Interaction.partner_id)
            .where(Interaction.follow_up_on >= start, Interaction.follow_up_on <= end, Partner.archived_at.is_(None))
            .order_by(Interaction.follow_up_on, Interaction.id)
        )
    ]

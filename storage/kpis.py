"""KPI values and targets: setting them, which source wins, quarter attainment and workspace totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import KpiTarget, KpiValue, Partner

METRICS = ("revenue", "leads", "adoption", "deals")
SOURCE_PRECEDENCE = ("manual", "crm", "deals")


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


def has_kpi(*, session: Session, partner_id: int, metric: str, month: str, source: str, attribution: str) -> bool:
    """Whether a value exists for exactly this partner, metric, month, source and attribution."""
    return session.scalar(
        select(KpiValue.id).where(KpiValue.partner_id == partner_id, KpiValue.metric == metric, KpiValue.month == month,
                                  KpiValue.source == source, KpiValue.attribution == attribution)
    ) is not None


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


def _quarter_targets(session: Session, partner_id: int, months: list[str], quarter: str) -> dict[str, Decimal]:
    """A quarter target wins; otherwise the month targets add up to one."""
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
    return targets


def quarter_attainment(*, session: Session, partner_id: int, months: list[str], quarter: str) -> list[Attainment]:
    """Actual vs target per metric for a quarter: sums of months, except adoption (latest month)."""
    rows = session.execute(
        select(KpiValue.metric, KpiValue.month, KpiValue.source, KpiValue.attribution, KpiValue.value).where(
            KpiValue.partner_id == partner_id, KpiValue.month.in_(months)
        )
    ).all()
    values = effective_values([tuple(r) for r in rows])
    targets = _quarter_targets(session, partner_id, months, quarter)
    result = []
    for metric in METRICS:
        def total(attribution: str) -> Decimal:
            picked = [(m, v) for (mt, m, a), v in values.items() if mt == metric and a == attribution]
            if metric == "adoption":
                return max(picked)[1] if picked else Decimal(0)
            return sum((v for _, v in picked), Decimal(0))

        result.append(Attainment(metric, total("sourced"), total("influenced"), targets.get(metric)))
    return result


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


# --- values of one source (the CRM sync replaces its own wholesale) -------------------

def values_of_source(*, session: Session, source: str, months: list[str]) -> dict[tuple[int, str, str, str], Decimal]:
    """(partner_id, metric, month, attribution) → value, for one source over months."""
    return {
        (k.partner_id, k.metric, k.month, k.attribution): k.value
        for k in session.scalars(select(KpiValue).where(KpiValue.source == source, KpiValue.month.in_(months)))
    }


def delete_values_of_source(*, session: Session, source: str, months: list[str]) -> None:
    session.execute(delete(KpiValue).where(KpiValue.source == source, KpiValue.month.in_(months)))
    session.flush()


def delete_value(*, session: Session, partner_id: int, metric: str, month: str, source: str, attribution: str) -> None:
    session.execute(delete(KpiValue).where(KpiValue.partner_id == partner_id, KpiValue.metric == metric,
                                           KpiValue.month == month, KpiValue.source == source,
                                           KpiValue.attribution == attribution))

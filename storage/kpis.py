"""KPI values and targets: setting them, which source wins, quarter attainment and workspace totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import KpiTarget, KpiValue, Partner
from storage.periods import local_today, month_bounds, month_of

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


LEVELS = ("adoption",)  # a level, not cumulative: the latest month counts, and it is not judged by pace


@dataclass(frozen=True)
class Attainment:
    metric: str
    actual: Decimal  # over the months the target covers (`months`; the whole quarter when empty)
    influenced: Decimal
    target: Decimal | None
    months: tuple[str, ...] = ()  # a target built from month targets covers only those months
    elapsed: float | None = None  # share of the target's months passed; None for a level (adoption)

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


def _elapsed(months: list[str] | tuple[str, ...], as_of: datetime, zone: ZoneInfo) -> float:
    """Share of these months' time that has passed at `as_of` (0–1)."""
    passed = total = 0.0
    for month in months:
        start, end = month_bounds(month, zone)
        span = (end - start).total_seconds()
        total += span
        passed += min(max((as_of - start).total_seconds(), 0.0), span)
    return passed / total if total else 1.0


def judge(
    metric: str, values: dict[tuple[str, str, str], Decimal], quarter_target: Decimal | None,
    month_targets: dict[str, Decimal], *, months: list[str], as_of: datetime, zone: ZoneInfo,
) -> Attainment:
    """The one rule for a metric's quarter (card, health, digest):
    - a quarter target wins, judged over the whole quarter;
    - otherwise the month targets make it up, and the actual counts only those
      months, its pace measured over their elapsed share (a December target is
      not judged on October's revenue nor on the quarter's pace);
    - adoption is a level: the latest month's value against the quarter target,
      else the latest month target up to this month (else the latest set), never prorated."""
    this_month = month_of(local_today(as_of, zone))
    level = metric in LEVELS
    scope: tuple[str, ...] = ()
    target = quarter_target
    if target is None and month_targets:
        if level:
            upto = [m for m in month_targets if m <= this_month]
            target = month_targets[max(upto or month_targets)]
        else:
            scope = tuple(sorted(month_targets))
            target = sum(month_targets.values(), Decimal(0))
    counted = set(scope or months)

    def total(attribution: str) -> Decimal:
        picked = [(m, v) for (mt, m, a), v in values.items() if mt == metric and a == attribution and m in counted]
        if level:
            return max(picked)[1] if picked else Decimal(0)
        return sum((v for _, v in picked), Decimal(0))

    elapsed = None if level else _elapsed(scope or months, as_of, zone)
    return Attainment(metric, total("sourced"), total("influenced"), target, scope, elapsed)


def attainments(
    *, session: Session, quarter: str, months: list[str], as_of: datetime, zone: ZoneInfo,
    partner_ids: list[int] | None = None, with_targets_only: bool = False,
) -> dict[int, list[Attainment]]:
    """partner id → Attainment per metric for a quarter, by `judge`, in two statements
    whatever the number of partners (`partner_ids` None: every partner with a value
    or target). `with_targets_only`: only metrics with a target, only partners with one."""
    only = (lambda column: [column.in_(partner_ids)]) if partner_ids is not None else (lambda column: [])
    quarter_targets: dict[int, dict[str, Decimal]] = defaultdict(dict)
    month_targets: dict[int, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for pid, metric, period, value in session.execute(
        select(KpiTarget.partner_id, KpiTarget.metric, KpiTarget.period, KpiTarget.value)
        .where(KpiTarget.period.in_([quarter, *months]), *only(KpiTarget.partner_id))
    ):
        if period == quarter:
            quarter_targets[pid][metric] = value
        else:
            month_targets[pid][metric][period] = value
    targeted = set(quarter_targets) | set(month_targets)
    if with_targets_only and not targeted:
        return {}
    query = select(KpiValue.partner_id, KpiValue.metric, KpiValue.month, KpiValue.source, KpiValue.attribution,
                   KpiValue.value).where(KpiValue.month.in_(months), *only(KpiValue.partner_id))
    if with_targets_only:
        query = query.where(KpiValue.attribution == "sourced", KpiValue.partner_id.in_(
            select(KpiTarget.partner_id).where(KpiTarget.period.in_([quarter, *months]), *only(KpiTarget.partner_id))))
    rows: dict[int, list] = defaultdict(list)
    for pid, *rest in session.execute(query):
        rows[pid].append(tuple(rest))
    out: dict[int, list[Attainment]] = {}
    for pid in sorted(targeted if with_targets_only else targeted | set(rows) | set(partner_ids or [])):
        values = effective_values(rows.get(pid, []))
        result = []
        for metric in METRICS:
            q, m = quarter_targets.get(pid, {}).get(metric), dict(month_targets.get(pid, {}).get(metric, {}))
            if with_targets_only and q is None and not m:
                continue
            result.append(judge(metric, values, q, m, months=months, as_of=as_of, zone=zone))
        out[pid] = result
    return out


def quarter_attainment(
    *, session: Session, partner_id: int, months: list[str], quarter: str,
    as_of: datetime | None = None, zone: ZoneInfo = ZoneInfo("UTC"),
) -> list[Attainment]:
    """Actual vs target per metric for one partner's quarter (the card), by `judge`.
    Without `as_of`: as of the quarter's end."""
    if as_of is None:
        as_of = month_bounds(months[-1], zone)[1] - timedelta(seconds=1)
    found = attainments(session=session, quarter=quarter, months=months, as_of=as_of, zone=zone, partner_ids=[partner_id])
    return found.get(partner_id) or [judge(m, {}, None, {}, months=months, as_of=as_of, zone=zone) for m in METRICS]


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
    totals["adoption"] = _average(adoption)
    return totals


def _average(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1")) if values else Decimal(0)


def workspace_attainment(*, session: Session, quarter: str, months: list[str], as_of: datetime,
                         zone: ZoneInfo) -> dict[str, tuple[Decimal, Decimal]]:
    """metric → (actual, target) over partners with a target, each judged as on its
    card (`judge`): summed, adoption averaged over those partners."""
    per_metric: dict[str, list[Attainment]] = defaultdict(list)
    for found in attainments(session=session, quarter=quarter, months=months, as_of=as_of, zone=zone,
                             with_targets_only=True).values():
        for a in found:
            if a.target:
                per_metric[a.metric].append(a)
    out = {}
    for metric, found in per_metric.items():
        if metric in LEVELS:
            out[metric] = (_average([a.actual for a in found]), _average([a.target for a in found]))
        else:
            out[metric] = (sum((a.actual for a in found), Decimal(0)), sum((a.target for a in found), Decimal(0)))
    return out


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

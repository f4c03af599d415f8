"""KPI values and targets: setting them, which source wins, quarter attainment and workspace totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, cast, delete, exists, func, literal, select, union, union_all
from sqlalchemy.orm import Session

from storage.models import KpiHistory, KpiTarget, KpiValue, Partner
from storage.periods import local_today, month_bounds, month_of

METRICS = ("revenue", "leads", "adoption", "deals")
SOURCE_PRECEDENCE = ("manual", "crm", "deals")
ATTRIBUTIONS = ("sourced", "influenced")


def set_kpi(
    *, session: Session, partner_id: int, metric: str, month: str, value: Decimal, user_id: str | None,
    now: datetime, source: str = "manual", attribution: str = "sourced",
) -> Decimal | None:
    """Set one value, kept in kpi_history with it; returns the value it replaced. An
    unchanged value is left as it is (no new history entry: a daily sync that finds
    nothing new writes nothing)."""
    row = session.scalar(
        select(KpiValue).where(
            KpiValue.partner_id == partner_id, KpiValue.metric == metric, KpiValue.month == month,
            KpiValue.source == source, KpiValue.attribution == attribution,
        )
    )
    previous = row.value if row else None
    if previous is not None and previous == value:
        return previous
    if row is None:
        session.add(KpiValue(partner_id=partner_id, metric=metric, month=month, source=source,
                             attribution=attribution, value=value, entered_by=user_id, updated_at=now))
    else:
        row.value, row.entered_by, row.updated_at = value, user_id, now
    session.add(KpiHistory(partner_id=partner_id, metric=metric, month=month, source=source,
                           attribution=attribution, value=value, at=now))
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


# --- the digest's workspace figures, set-wise in SQL ----------------------------------
# The same rules as effective_values and judge above, computed by the database over
# every partner at once, in one pass over the quarter's rows grouped per partner and
# metric (conditional aggregates over the few months of a quarter, no joins): a few
# rows back, whatever the number of partners.


def effective_in(month: str, sources):
    """The effective value of one month within a (partner, metric) group: the
    highest-precedence source's (at most one row per source: uq_kpi_values_key)."""
    def of(*where):
        return func.max(case((and_(sources.c.kind == "value", sources.c.period == month, *where), sources.c.value)))

    others = sources.c.source.not_in(SOURCE_PRECEDENCE)
    return func.coalesce(*(of(sources.c.source == s) for s in SOURCE_PRECEDENCE), of(others))


def _per_partner(*, months: list[str], quarter: str):
    """One row per partner and metric with a value or target in the quarter: partner_id,
    metric, v0…vN (the effective sourced value of each of `months`), t0…tN (each
    month's target) and q (the quarter's target)."""
    sources = union_all(
        select(KpiValue.partner_id, KpiValue.metric, KpiValue.month.label("period"), KpiValue.source,
               KpiValue.value, literal("value").label("kind"))
        .where(KpiValue.month.in_(months), KpiValue.attribution == "sourced"),
        select(KpiTarget.partner_id, KpiTarget.metric, KpiTarget.period, literal(None), KpiTarget.value, literal("target"))
        .where(KpiTarget.period.in_([quarter, *months])),
    ).subquery()

    def target(period: str):
        return func.max(case((and_(sources.c.kind == "target", sources.c.period == period), sources.c.value)))

    return select(
        sources.c.partner_id, sources.c.metric,
        *(effective_in(month, sources).label(f"v{i}") for i, month in enumerate(months)),
        *(target(month).label(f"t{i}") for i, month in enumerate(months)),
        target(quarter).label("q"),
    ).group_by(sources.c.partner_id, sources.c.metric)


def summed(*terms):
    """SQL sum of nullable terms, NULL only when all are: SUM() over a row, as Python's sum over the present ones."""
    return terms[0] if len(terms) == 1 else case(
        (and_(*(t.is_(None) for t in terms)), None), else_=sum((func.coalesce(t, 0) for t in terms[1:]), func.coalesce(terms[0], 0)))


def first_of(*terms):
    """SQL COALESCE, also of a single term (SQLite wants at least two arguments: a
    quarter's first month has a single value column)."""
    return terms[0] if len(terms) == 1 else func.coalesce(*terms)


def _average_of(total: Decimal | None, count: int) -> Decimal:
    return (Decimal(total or 0) / count).quantize(Decimal("0.1")) if count else Decimal(0)


@dataclass(frozen=True)
class Workspace:
    """The digest's quarter figures for the whole workspace."""

    totals: dict[str, Decimal]  # metric → sourced total over the months (adoption: average of partners' latest)
    attained: dict[str, Decimal]  # metric → actual over partners with a target, each judged as on its card
    targets: dict[str, Decimal]  # metric → their targets (adoption: averaged)
    top: list[tuple[str, Decimal]]  # the partners with the most sourced revenue, most first


def workspace_quarter(*, session: Session, quarter: str, months: list[str], as_of: datetime, zone: ZoneInfo,
                      top: int = 5) -> Workspace:
    """Totals, attainment against targets and the top partners by revenue, in one
    statement over one grouped pass of the quarter's values and targets."""
    this_month = month_of(local_today(as_of, zone))
    per = _per_partner(months=months, quarter=quarter).cte("per_partner")
    v = [per.c[f"v{i}"] for i in range(len(months))]
    t = [per.c[f"t{i}"] for i in range(len(months))]
    level = per.c.metric.in_(LEVELS)
    # Totals: a level (adoption) counts each partner's latest month; the others sum every month.
    figure = case((level, first_of(*reversed(v))), else_=summed(*v))
    totals = select(literal("total").label("part"), per.c.metric.label("key"), func.sum(figure).label("a"),
                    cast(None, KpiValue.value.type).label("b"), func.count(figure).label("n")).group_by(per.c.metric)
    # Attainment, by judge's rules. Cumulative metrics: a quarter target is judged on the
    # quarter's months; month targets on the months they cover, against their sum.
    by_months = summed(*(case((ti.is_not(None), vi)) for vi, ti in zip(v, t)))
    cumulative_actual = case((per.c.q.is_not(None), summed(*v)), else_=by_months)
    cumulative_target = func.coalesce(per.c.q, summed(*t))
    # A level: the latest month's value against the quarter target, else the latest
    # month target up to this month (else the latest set).
    by_recency = sorted((m for m in months if m <= this_month), reverse=True) + sorted((m for m in months if m > this_month), reverse=True)
    level_target = func.coalesce(per.c.q, *(t[months.index(m)] for m in by_recency))
    judged = select(
        per.c.metric,
        case((level, first_of(*reversed(v))), else_=cumulative_actual).label("actual"),
        case((level, level_target), else_=cumulative_target).label("target"),
    ).subquery()
    attainment = (
        select(literal("judged"), judged.c.metric, func.sum(judged.c.actual), func.sum(judged.c.target), func.count())
        .where(judged.c.target.is_not(None), judged.c.target != 0).group_by(judged.c.metric)
    )
    # Top partners: rank() keeps every tie of the last place; ties are then ordered by
    # name in Python, the same whatever the database's collation.
    revenue = summed(*v)
    ranked = (
        select(per.c.partner_id, revenue.label("total"), func.rank().over(order_by=func.round(revenue, 2).desc()).label("place"))
        .where(per.c.metric == "revenue", revenue.is_not(None))
        .subquery()
    )
    leaders = (
        select(literal("top"), Partner.name, ranked.c.total, literal(None), ranked.c.place)
        .join(Partner, Partner.id == ranked.c.partner_id).where(ranked.c.place <= top)
    )
    totals_out = {m: Decimal(0) for m in METRICS}
    attained: dict[str, Decimal] = {}
    targets: dict[str, Decimal] = {}
    leading: list[tuple[str, Decimal]] = []
    for part, key, a, b, n in session.execute(union_all(totals, attainment, leaders)):
        if part == "top":
            leading.append((key, Decimal(0) + a))
        elif part == "total":
            if key in LEVELS:
                totals_out[key] = _average_of(a, n)
            elif n:
                totals_out[key] += a
        elif key in LEVELS:
            attained[key], targets[key] = _average_of(a, n), _average_of(b, n)
        else:
            attained[key], targets[key] = Decimal(0) + (a or 0), Decimal(0) + b
    return Workspace(totals_out, attained, targets, sorted(leading, key=lambda r: (-r[1], r[0]))[:top])


# --- what a quarter stood at, from the KPI history -----------------------------------
# kpi_values holds each key's latest value; kpi_history every write (and removal) with
# its time. A key's value at instant t is its latest entry at or before t. A key not
# written since t still has its value of then in kpi_values (so a value written in bulk
# without history, as the demo seeds them, counts from its updated_at, and is unknown
# before). So the totals as known at t are today's figures of the (partner, metric,
# attribution) groups with no key written since t, plus the figures of then of the groups
# with one: only last week's few groups are looked up in the history (the changed keys
# come from an index range, kpi_history by month and time), not every key of the quarter.

_KEY = ("partner_id", "metric", "month", "source", "attribution")


def _key(table) -> list:
    return [getattr(table, c) for c in _KEY]


def _figures(rows, months: list[str]):
    """attribution, metric, sum and count of the per-partner figures of `rows` (partner_id,
    metric, month, source, attribution, value), by workspace_quarter's rules for its totals."""
    known = rows.subquery()
    sources = select(known.c.partner_id, known.c.metric, known.c.attribution, known.c.month.label("period"),
                     known.c.source, known.c.value, literal("value").label("kind")).subquery()
    v = [effective_in(month, sources) for month in months]
    figure = case((sources.c.metric.in_(LEVELS), first_of(*reversed(v))), else_=summed(*v)).label("figure")
    per = (select(sources.c.metric, sources.c.attribution, figure)
           .group_by(sources.c.partner_id, sources.c.metric, sources.c.attribution).subquery())
    return (select(per.c.attribution, per.c.metric, func.sum(per.c.figure), func.count(per.c.figure))
            .group_by(per.c.attribution, per.c.metric))


def _as_known_at(months: list[str], at: datetime) -> list:
    """Rows (partner_id, metric, month, source, attribution, value) whose figures add up to
    the totals known at `at`: today's rows of the groups with no key changed since, and the
    changed groups' rows of then (a changed key's latest history entry up to `at`)."""
    changed = union(
        select(*_key(KpiHistory)).where(KpiHistory.month.in_(months), KpiHistory.at > at),
        select(*_key(KpiValue)).where(KpiValue.month.in_(months), KpiValue.updated_at > at),
    ).cte("changed")
    groups = select(changed.c.partner_id, changed.c.metric, changed.c.attribution).distinct().cte("changed_groups")

    def in_groups(table):
        return exists().where(groups.c.partner_id == table.partner_id, groups.c.metric == table.metric,
                              groups.c.attribution == table.attribution)

    def is_changed(table):
        return exists().where(*(changed.c[c] == getattr(table, c) for c in _KEY))

    current = select(*_key(KpiValue), KpiValue.value).where(KpiValue.month.in_(months))
    ranked = (
        select(*_key(KpiHistory), KpiHistory.value, func.row_number().over(
            partition_by=_key(KpiHistory), order_by=[KpiHistory.at.desc(), KpiHistory.id.desc()]).label("latest"))
        .where(KpiHistory.month.in_(months), KpiHistory.at <= at, is_changed(KpiHistory))
        .subquery()
    )
    return [
        current.where(~in_groups(KpiValue)),
        union_all(
            current.where(in_groups(KpiValue), ~is_changed(KpiValue)),
            select(*(ranked.c[c] for c in _KEY), ranked.c.value).where(ranked.c.latest == 1, ranked.c.value.is_not(None)),
        ),
    ]


def quarter_totals(*, session: Session, months: list[str], at: datetime | None = None) -> dict[str, dict[str, Decimal]]:
    """attribution (sourced, influenced) → metric → the workspace's total over `months` as
    known at instant `at` (None: now), by workspace_quarter's rules for its totals: each
    month's highest-precedence source (manual, then CRM, then deal registrations), a
    quarter the sum of its months, adoption each partner's latest month, averaged. One
    statement, whatever the number of partners (before `at`: the unchanged groups as they
    are, the changed ones as they were; the same figures per group, by _figures)."""
    out = {attribution: {m: Decimal(0) for m in METRICS} for attribution in ATTRIBUTIONS}
    if not months:  # a quarter not begun by then
        return out
    parts = ([select(*_key(KpiValue), KpiValue.value).where(KpiValue.month.in_(months))] if at is None
             else _as_known_at(months, at))
    sums: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), 0])
    for attribution, metric, total, n in session.execute(union_all(*(_figures(rows, months) for rows in parts))):
        sums[attribution, metric][0] += Decimal(total or 0)
        sums[attribution, metric][1] += n
    for (attribution, metric), (total, n) in sums.items():
        if n:
            out.setdefault(attribution, {m: Decimal(0) for m in METRICS})[metric] = (
                _average_of(total, n) if metric in LEVELS else total)
    return out


# --- values of one source (the CRM sync keeps its own up to date) ---------------------

def values_of_source(*, session: Session, source: str, months: list[str]) -> dict[tuple[int, str, str, str], Decimal]:
    """(partner_id, metric, month, attribution) → value, for one source over months."""
    return {
        (k.partner_id, k.metric, k.month, k.attribution): k.value
        for k in session.scalars(select(KpiValue).where(KpiValue.source == source, KpiValue.month.in_(months)))
    }


def delete_values(*, session: Session, source: str, keys: list[tuple[int, str, str, str]], now: datetime) -> None:
    """Remove one source's values at these (partner_id, metric, month, attribution) keys,
    each removal kept in kpi_history."""
    for pid, metric, month, attribution in keys:
        delete_value(session=session, partner_id=pid, metric=metric, month=month, source=source,
                     attribution=attribution, now=now)
    session.flush()


def delete_value(*, session: Session, partner_id: int, metric: str, month: str, source: str, attribution: str,
                 now: datetime) -> None:
    """Remove one value (if there is one), and keep its removal in kpi_history."""
    removed = session.execute(delete(KpiValue).where(KpiValue.partner_id == partner_id, KpiValue.metric == metric,
                                                     KpiValue.month == month, KpiValue.source == source,
                                                     KpiValue.attribution == attribution))
    if removed.rowcount:
        session.add(KpiHistory(partner_id=partner_id, metric=metric, month=month, source=source,
                               attribution=attribution, value=None, at=now))

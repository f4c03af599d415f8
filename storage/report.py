"""`/partner report` and `partnerbot report --csv`: the figures a head of partnerships runs
the quarter on, each computed by the database set-wise (a few grouped statements, never a
statement per partner), filtered by owner, type and tier.

- attainment by KPI vs pace, for the workspace and by owner, type or tier (`attainment_by`,
  by storage/kpis.py's rules, so it agrees with the card and the digest);
- the funnel by stage, this quarter vs last (`funnel`);
- onboarding cohorts: time to first deal and to a complete checklist (`cohorts`);
- the quarter's forecast: attainment so far plus weighted open registrations (`forecast`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from storage.kpis import LEVELS, METRICS, _effective_in, _summed
from storage.models import KpiTarget, KpiValue, Partner
from storage.periods import local_today, month_bounds, month_of

Group = Literal["owner", "type", "tier"]


@dataclass(frozen=True)
class Filters:
    """Which partners a report covers: owner (Slack user ID), type and tier (any case); None: all."""

    owner_id: str | None = None
    type: str | None = None
    tier: str | None = None

    def clauses(self) -> list:
        return [
            *([Partner.owner_id == self.owner_id] if self.owner_id else []),
            *([Partner.type == self.type] if self.type else []),
            *([func.lower(Partner.tier) == self.tier.lower()] if self.tier else []),
        ]


def _average(total: Decimal, count: int) -> Decimal:
    """A level's figure over several partners: the mean, to one decimal (the digest's rounding)."""
    return (total / count).quantize(Decimal("0.1")) if count else Decimal(0)


@dataclass(frozen=True)
class Figure:
    """One KPI over a set of partners, as sums and counts so that groups add up to the
    total exactly (a level — adoption — is shown as the mean of each partner's latest
    month, which is sum ÷ count of the same fields)."""

    metric: str
    sourced_sum: Decimal = Decimal(0)  # over partners with a sourced value (adoption: each one's latest month)
    sourced_count: int = 0
    influenced_sum: Decimal = Decimal(0)
    influenced_count: int = 0
    attained_sum: Decimal = Decimal(0)  # actual of the partners with a target, each judged as on its card
    target_sum: Decimal = Decimal(0)
    targeted: int = 0  # partners with a non-zero target

    def _shown(self, total: Decimal, count: int) -> Decimal:
        return _average(total, count) if self.metric in LEVELS else total

    @property
    def sourced(self) -> Decimal:
        return self._shown(self.sourced_sum, self.sourced_count)

    @property
    def influenced(self) -> Decimal:
        return self._shown(self.influenced_sum, self.influenced_count)

    @property
    def attained(self) -> Decimal:
        return self._shown(self.attained_sum, self.targeted)

    @property
    def target(self) -> Decimal | None:
        return self._shown(self.target_sum, self.targeted) if self.targeted else None

    @property
    def ratio(self) -> float | None:
        """Share of target reached (None without a target)."""
        return float(self.attained_sum / self.target_sum) if self.targeted and self.target_sum else None

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.metric, *(getattr(self, f) + getattr(other, f) for f in (
            "sourced_sum", "sourced_count", "influenced_sum", "influenced_count", "attained_sum", "target_sum", "targeted")))


@dataclass(frozen=True)
class GroupAttainment:
    """The KPIs of one owner, type or tier (key; None for partners without a tier), or of all (the total)."""

    key: str | None
    partners: int  # partners in the group, archived ones left out (their KPI values still count, as in the digest)
    figures: dict[str, Figure] = field(default_factory=dict)  # metric → Figure, every metric present


@dataclass(frozen=True)
class Attainments:
    """`attainment_by`'s answer: the total over every partner the filters keep, and the
    rows by group (empty without a group), ordered by key."""

    quarter: str
    pace: float  # the share of the quarter's months elapsed at `as_of`, 0–1 (a level is judged against 100 %)
    total: GroupAttainment
    rows: list[GroupAttainment]


def pace(months: list[str], as_of: datetime, zone: ZoneInfo) -> float:
    """The share of these months' time that has passed at `as_of`, 0–1: the attainment expected by now."""
    start, end = month_bounds(months[0], zone)[0], month_bounds(months[-1], zone)[1]
    return min(max((as_of - start) / (end - start), 0.0), 1.0)


def _per_partner_both(*, months: list[str], quarter: str):
    """storage/kpis.py's per-partner pass with both attributions: one row per partner,
    metric and attribution with a value or target (targets sit on the sourced row):
    v0…vN (each month's effective value, manual > CRM > deals), t0…tN and q (targets)."""
    sources = union_all(
        select(KpiValue.partner_id, KpiValue.metric, KpiValue.month.label("period"), KpiValue.source,
               KpiValue.value, literal("value").label("kind"), KpiValue.attribution)
        .where(KpiValue.month.in_(months)),
        select(KpiTarget.partner_id, KpiTarget.metric, KpiTarget.period, literal(None), KpiTarget.value,
               literal("target"), literal("sourced"))
        .where(KpiTarget.period.in_([quarter, *months])),
    ).subquery()

    def target(period: str):
        return func.max(case((and_(sources.c.kind == "target", sources.c.period == period), sources.c.value)))

    return select(
        sources.c.partner_id, sources.c.metric, sources.c.attribution,
        *(_effective_in(month, sources).label(f"v{i}") for i, month in enumerate(months)),
        *(target(month).label(f"t{i}") for i, month in enumerate(months)),
        target(quarter).label("q"),
    ).group_by(sources.c.partner_id, sources.c.metric, sources.c.attribution)


def _group_key(group: Group | None):
    return {"owner": Partner.owner_id, "type": Partner.type, "tier": Partner.tier}[group] if group else cast(null(), Partner.type.type)


def attainment_by(
    session: Session, *, quarter: str, months: list[str], as_of: datetime, zone: ZoneInfo,
    group: Group | None = None, filters: Filters = Filters(),
) -> Attainments:
    """Attainment per KPI for the partners `filters` keeps, in total and by owner, type or
    tier (`group`), against the quarter's pace; one statement, whatever the number of partners.

    The rules are storage/kpis.py's, so the total agrees with the digest's
    `workspace_quarter` and each partner with its card: a quarter is the sum of its `months`
    (adoption: the latest month), manual beats CRM beats deal registrations, a quarter target
    wins over month targets (which then judge only the months they cover), and attainment
    counts only partners with a target. Sourced and influenced are kept apart. Rows hold sums
    and counts, so the rows of any grouping add up to the total (`Figure.__add__`).
    `months` may stop before the quarter's end (the digest passes the months up to its week)."""
    this_month = month_of(local_today(as_of, zone))
    per = _per_partner_both(months=months, quarter=quarter).subquery()
    v = [per.c[f"v{i}"] for i in range(len(months))]
    t = [per.c[f"t{i}"] for i in range(len(months))]
    key = _group_key(group).label("key")
    grouped = [key] if group else []
    level = per.c.metric.in_(LEVELS)
    kept = [*filters.clauses()]
    joined = per.join(Partner, Partner.id == per.c.partner_id)

    figure = case((level, func.coalesce(*reversed(v))), else_=_summed(*v))
    values = (select(literal("value").label("part"), key, per.c.metric, per.c.attribution, func.sum(figure).label("a"),
                     cast(null(), KpiValue.value.type).label("b"), func.count(figure).label("n"))
              .select_from(joined).where(*kept).group_by(*grouped, per.c.metric, per.c.attribution))
    # judge's rules, as workspace_quarter applies them (see there).
    by_months = _summed(*(case((ti.is_not(None), vi)) for vi, ti in zip(v, t)))
    cumulative_actual = case((per.c.q.is_not(None), _summed(*v)), else_=by_months)
    by_recency = sorted((m for m in months if m <= this_month), reverse=True) + sorted((m for m in months if m > this_month), reverse=True)
    level_target = func.coalesce(per.c.q, *(t[months.index(m)] for m in by_recency))
    judged = (select(key, per.c.metric,
                     case((level, func.coalesce(*reversed(v))), else_=cumulative_actual).label("actual"),
                     case((level, level_target), else_=func.coalesce(per.c.q, _summed(*t))).label("target"))
              .select_from(joined).where(per.c.attribution == "sourced", *kept).subquery())
    judged_key = judged.c.key if group else _group_key(None)
    attained = (select(literal("judged"), judged_key, judged.c.metric, literal("sourced"), func.sum(judged.c.actual),
                       func.sum(judged.c.target), func.count())
                .where(judged.c.target.is_not(None), judged.c.target != 0)
                .group_by(*([judged.c.key] if group else []), judged.c.metric))
    members = (select(literal("partners"), key, cast(null(), KpiValue.metric.type), cast(null(), KpiValue.attribution.type),
                      cast(null(), KpiValue.value.type), cast(null(), KpiValue.value.type), func.count())
               .select_from(Partner).where(Partner.archived_at.is_(None), *kept).group_by(*grouped))

    found: dict[str | None, dict] = {}
    for part, name, metric, attribution, a, b, n in session.execute(union_all(values, attained, members)):
        entry = found.setdefault(name if group else None, {"partners": 0, "figures": {}})
        if part == "partners":
            entry["partners"] = n
            continue
        old = entry["figures"].get(metric, Figure(metric))
        a = Decimal(0) + (a or 0)
        if part == "judged":
            extra = Figure(metric, attained_sum=a, target_sum=Decimal(0) + (b or 0), targeted=n)
        elif attribution == "sourced":
            extra = Figure(metric, sourced_sum=a, sourced_count=n)
        else:
            extra = Figure(metric, influenced_sum=a, influenced_count=n)
        entry["figures"][metric] = old + extra

    def made(name: str | None, entry: dict) -> GroupAttainment:
        return GroupAttainment(name, entry["partners"], {m: entry["figures"].get(m, Figure(m)) for m in METRICS})

    rows = [made(name, entry) for name, entry in sorted(found.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
    if group is None:
        total = rows[0] if rows else made(None, {"partners": 0, "figures": {}})
        return Attainments(quarter, pace(months, as_of, zone), total, [])
    figures = {m: sum((r.figures[m] for r in rows), Figure(m)) for m in METRICS}
    return Attainments(quarter, pace(months, as_of, zone), GroupAttainment(None, sum(r.partners for r in rows), figures), rows)

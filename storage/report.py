"""`/partner report` and `partnerbot report --csv`: the figures a head of partnerships runs
the quarter on, each computed by the database set-wise (a few grouped statements, never a
statement per partner), filtered by owner, type and tier.

- attainment by KPI vs pace, for the workspace and by owner, type or tier (`attainment_by`,
  by storage/kpis.py's rules, so it agrees with the card and the digest);
- the funnel by stage, this quarter vs last (`funnel`);
- onboarding cohorts: time to first deal and to a complete checklist (`cohorts`);
- the quarter's forecast: attainment so far plus weighted open registrations (`pipeline`);
- requests per team, on the SLA clock (storage/sla.py `request_figures`).

`build` makes the whole report (what `/partner report` shows), `flat` the same figures as
rows (what `partnerbot report --csv` prints). README "/partner report" defines each figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Numeric, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from core.settings import Settings
from storage.kpis import LEVELS, METRICS, effective_in, first_of, summed
from storage.models import (Change, DealRegistration, DealStatus, KpiTarget, KpiValue, OnboardingStep, Partner, Stage,
                            UTCDateTime)
from storage.onboarding import STEPS
from storage.periods import local_today, month_bounds, month_of, quarter_months, quarter_of
from storage.sla import TeamRequests, request_figures
from storage.sla import total as all_teams

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
        *(effective_in(month, sources).label(f"v{i}") for i, month in enumerate(months)),
        *(target(month).label(f"t{i}") for i, month in enumerate(months)),
        target(quarter).label("q"),
    ).group_by(sources.c.partner_id, sources.c.metric, sources.c.attribution)


GROUP_COLUMNS = {"owner": Partner.owner_id, "type": Partner.type, "tier": Partner.tier}


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
    found = _grouped(session, quarter=quarter, months=months, as_of=as_of, zone=zone, groups=[group] if group else [],
                     filters=filters)
    return _rolled(found, quarter=quarter, expected=pace(months, as_of, zone), at=0 if group else None)


def _grouped(
    session: Session, *, quarter: str, months: list[str], as_of: datetime, zone: ZoneInfo, groups: list[Group],
    filters: Filters,
) -> dict[tuple, GroupAttainment]:
    """(one key per group) → that combination's GroupAttainment (key None), in one statement:
    the quarter's values and targets resolved per partner (a CTE, read once), then summed
    per combination of `groups` (none: one row for everything)."""
    this_month = month_of(local_today(as_of, zone))
    per = _per_partner_both(months=months, quarter=quarter).cte("per_partner")
    v = [per.c[f"v{i}"] for i in range(len(months))]
    t = [per.c[f"t{i}"] for i in range(len(months))]
    keys = [GROUP_COLUMNS[g].label(f"k{i}") for i, g in enumerate(groups)]
    level = per.c.metric.in_(LEVELS)
    kept = filters.clauses()
    joined = per.join(Partner, Partner.id == per.c.partner_id)
    money = KpiValue.value.type

    figure = case((level, first_of(*reversed(v))), else_=summed(*v))
    values = (select(literal("value").label("part"), per.c.metric, per.c.attribution, func.sum(figure).label("a"),
                     cast(null(), money).label("b"), func.count(figure).label("n"), *keys)
              .select_from(joined).where(*kept).group_by(per.c.metric, per.c.attribution, *keys))
    # judge's rules, as workspace_quarter applies them (see there).
    by_months = summed(*(case((ti.is_not(None), vi)) for vi, ti in zip(v, t)))
    cumulative_actual = case((per.c.q.is_not(None), summed(*v)), else_=by_months)
    by_recency = sorted((m for m in months if m <= this_month), reverse=True) + sorted((m for m in months if m > this_month), reverse=True)
    level_target = func.coalesce(per.c.q, *(t[months.index(m)] for m in by_recency))
    judged = (select(per.c.metric,
                     case((level, first_of(*reversed(v))), else_=cumulative_actual).label("actual"),
                     case((level, level_target), else_=func.coalesce(per.c.q, summed(*t))).label("target"), *keys)
              .select_from(joined).where(per.c.attribution == "sourced", *kept).subquery())
    judged_keys = [judged.c[f"k{i}"] for i in range(len(groups))]
    attained = (select(literal("judged"), judged.c.metric, literal("sourced"), func.sum(judged.c.actual),
                       func.sum(judged.c.target), func.count(), *judged_keys)
                .where(judged.c.target.is_not(None), judged.c.target != 0).group_by(judged.c.metric, *judged_keys))
    members = (select(literal("partners"), cast(null(), KpiValue.metric.type), cast(null(), KpiValue.attribution.type),
                      cast(null(), money), cast(null(), money), func.count(), *keys)
               .select_from(Partner).where(Partner.archived_at.is_(None), *kept).group_by(*keys))

    found: dict[tuple, GroupAttainment] = {}
    for part, metric, attribution, a, b, n, *key in session.execute(union_all(values, attained, members)):
        row = found.setdefault(tuple(key), GroupAttainment(None, 0, {m: Figure(m) for m in METRICS}))
        if part == "partners":
            found[tuple(key)] = GroupAttainment(None, n, row.figures)
            continue
        a = Decimal(0) + (a or 0)
        if part == "judged":
            extra = Figure(metric, attained_sum=a, target_sum=Decimal(0) + (b or 0), targeted=n)
        elif attribution == "sourced":
            extra = Figure(metric, sourced_sum=a, sourced_count=n)
        else:
            extra = Figure(metric, influenced_sum=a, influenced_count=n)
        row.figures[metric] = row.figures[metric] + extra
    return found


def _summed_rows(key: str | None, rows: list[GroupAttainment]) -> GroupAttainment:
    return GroupAttainment(key, sum(r.partners for r in rows),
                           {m: sum((r.figures[m] for r in rows), Figure(m)) for m in METRICS})


def _rolled(found: dict[tuple, GroupAttainment], *, quarter: str, expected: float, at: int | None) -> Attainments:
    """The rows by the key at position `at` of `found`'s keys (summing over the others), and their total."""
    total = _summed_rows(None, list(found.values()))
    if at is None:
        return Attainments(quarter, expected, total, [])
    by: dict[str | None, list[GroupAttainment]] = {}
    for key, row in found.items():
        by.setdefault(key[at], []).append(row)
    rows = [_summed_rows(k, by[k]) for k in sorted(by, key=lambda k: (k is None, k or ""))]
    return Attainments(quarter, expected, total, rows)


# --- the funnel by stage ----------------------------------------------------------------
# The stage a partner was in at a past time is rebuilt from two records: the partner's
# stage_changed_at (its current stage has held since then), and the audit trail, whose
# partner.fields / step.done changes each store the partner's fields as they were just
# before the change. So the stage at T is the current stage when it was set by T, else the
# stage recorded by the partner's first such change after T. (A stage set by a CSV import
# or put back by `undo` leaves no record: there the current stage stands in.)

FUNNEL = (Stage.PROSPECT.value, Stage.ONBOARDING.value, Stage.ACTIVE.value)  # the way in, in order
_PROGRESS = {Stage.PROSPECT.value: 0, Stage.ONBOARDING.value: 1, Stage.ACTIVE.value: 2, Stage.AT_RISK.value: 2}
_SNAPSHOTS = ("partner.fields", "step.done")


def _recorded_stage(session: Session):
    """The stage a change's stored snapshot holds (JSON in `changes.undo`)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_extract_path_text(cast(Change.undo, JSONB), "fields", "stage")
    return func.json_extract(Change.undo, "$.fields.stage")


def _stage_at(session: Session, point):
    """A partner's stage at `point` (a per-partner SQL expression), as the note above says."""
    recorded = (select(_recorded_stage(session)).where(Change.partner_id == Partner.id, Change.kind.in_(_SNAPSHOTS),
                                                       Change.at > point)
                .order_by(Change.id).limit(1).scalar_subquery())
    return case((Partner.stage_changed_at <= point, Partner.stage), else_=func.coalesce(recorded, Partner.stage))


@dataclass(frozen=True)
class Conversion:
    """Of the partners in stage `stage` at the quarter's start (or added in it during the
    quarter), how many had moved past it by the quarter's end (at-risk counts as active;
    churned never counts)."""

    stage: str
    next: str
    entered: int
    moved_on: int

    @property
    def rate(self) -> float | None:
        return self.moved_on / self.entered if self.entered else None


@dataclass(frozen=True)
class Funnel:
    quarter: str
    counts: dict[str, int]  # stage → partners in it at the quarter's end (or now, for this quarter)
    conversions: list[Conversion]  # prospect → onboarding, onboarding → active


def funnel(session: Session, *, quarter: str, start: datetime, end: datetime, filters: Filters = Filters()) -> Funnel:
    """Stages at the end of [start, end) and conversion between consecutive funnel stages
    over it, for the partners that existed and were not archived at `end`; one statement."""
    begin = literal(start, UTCDateTime())
    finish = literal(end, UTCDateTime())
    first = case((Partner.created_at > begin, Partner.created_at), else_=begin)
    pairs = (select(_stage_at(session, first).label("was"), _stage_at(session, finish).label("now"))
             .where(Partner.created_at < finish, or_(Partner.archived_at.is_(None), Partner.archived_at > finish),
                    *filters.clauses())
             .subquery())
    moves = session.execute(select(pairs.c.was, pairs.c.now, func.count()).group_by(pairs.c.was, pairs.c.now)).all()
    counts = {s.value: 0 for s in Stage}
    for _, now, n in moves:
        counts[now] = counts.get(now, 0) + n
    conversions = []
    for here, there in zip(FUNNEL, FUNNEL[1:]):
        entered = sum(n for was, _, n in moves if was == here)
        moved = sum(n for was, now, n in moves if was == here and _PROGRESS.get(now, -1) > _PROGRESS[here])
        conversions.append(Conversion(here, there, entered, moved))
    return Funnel(quarter, counts, conversions)


# --- onboarding cohorts -----------------------------------------------------------------
# A partner's first deal is its earliest deal registration that stands: registered, or
# approved (a conflict or a partner's submission that was approved); one under review, in
# conflict or rejected does not count. Onboarding is complete when every step of the
# partner's type (storage/onboarding.py STEPS) is done; its time is the last step's.

FIRST_DEAL = (DealStatus.REGISTERED.value, DealStatus.APPROVED.value)


@dataclass(frozen=True)
class Cohort:
    quarter: str  # the quarter the partners were added in
    added: int
    aged_90: int  # of them, partners at least 90 days old at the report's time (the 90-day share's base)
    deal_90: int  # … with a first deal within 90 days of being added
    aged_180: int
    deal_180: int
    with_deal: int  # partners with a first deal so far
    median_days_to_deal: float | None  # over those with a first deal
    completed: int  # partners whose onboarding checklist is complete
    median_days_to_complete: float | None  # over those


def _days(session: Session, later, earlier):
    """Days from `earlier` to `later` (fractional), in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400
    return func.julianday(later) - func.julianday(earlier)


def _median(value, by):
    """The median of `value` per `by` (rows where it is not null), by row numbers (both
    databases): a subquery of (by, median)."""
    ranked = select(by.label("by"), value.label("v"),
                    func.row_number().over(partition_by=by, order_by=value).label("rn"),
                    func.count().over(partition_by=by).label("n")).where(value.is_not(None)).subquery()
    middle = ranked.c.rn.in_([(ranked.c.n + 1) / 2, (ranked.c.n + 2) / 2])
    return select(ranked.c.by, func.avg(ranked.c.v).label("median")).where(middle).group_by(ranked.c.by).subquery()


def cohorts(session: Session, *, quarters: list[tuple[str, datetime, datetime]], as_of: datetime,
            filters: Filters = Filters()) -> list[Cohort]:
    """One cohort per (quarter, start, end): partners added in it, how soon they
    registered a first deal and completed onboarding, as known at `as_of`; one statement
    (the partners' rows a CTE, read by the counts and by both medians)."""
    first_deal = (select(DealRegistration.partner_id, func.min(DealRegistration.registered_at).label("at"))
                  .where(DealRegistration.status.in_(FIRST_DEAL), DealRegistration.registered_at <= as_of)
                  .group_by(DealRegistration.partner_id).subquery())
    steps = (select(OnboardingStep.partner_id, func.count().label("done"), func.max(OnboardingStep.done_at).label("at"))
             .where(OnboardingStep.done_at <= as_of).group_by(OnboardingStep.partner_id).subquery())
    needed = case(*((Partner.type == kind, len(listed)) for kind, listed in STEPS.items()), else_=-1)
    cohort = case(*((and_(Partner.created_at >= start, Partner.created_at < end), literal(name)) for name, start, end in quarters))
    to_deal = _days(session, first_deal.c.at, Partner.created_at)
    to_complete = case((steps.c.done >= needed, _days(session, steps.c.at, Partner.created_at)))
    rows = (select(cohort.label("cohort"), Partner.created_at, to_deal.label("to_deal"), to_complete.label("to_complete"))
            .outerjoin(first_deal, first_deal.c.partner_id == Partner.id).outerjoin(steps, steps.c.partner_id == Partner.id)
            .where(Partner.created_at >= quarters[0][1], Partner.created_at < quarters[-1][2], Partner.created_at <= as_of,
                   *filters.clauses())
            .cte("cohort_rows"))

    def aged(days: int):
        return func.sum(case((rows.c.created_at <= as_of - timedelta(days=days), 1), else_=0))

    def within(days: int):
        return func.sum(case((and_(rows.c.created_at <= as_of - timedelta(days=days), rows.c.to_deal <= days), 1), else_=0))

    counts = (select(rows.c.cohort, func.count().label("added"), aged(90).label("a90"), within(90).label("d90"),
                     aged(180).label("a180"), within(180).label("d180"), func.count(rows.c.to_deal).label("dealt"),
                     func.count(rows.c.to_complete).label("completed"))
              .group_by(rows.c.cohort).subquery())
    to_deal_median, to_complete_median = _median(rows.c.to_deal, rows.c.cohort), _median(rows.c.to_complete, rows.c.cohort)
    found = {r.cohort: r for r in session.execute(
        select(counts, to_deal_median.c.median.label("deal_median"), to_complete_median.c.median.label("complete_median"))
        .outerjoin(to_deal_median, to_deal_median.c.by == counts.c.cohort)
        .outerjoin(to_complete_median, to_complete_median.c.by == counts.c.cohort))}
    out = []
    for name, _, _ in quarters:
        r = found.get(name)
        if r is None:
            out.append(Cohort(name, 0, 0, 0, 0, 0, 0, None, 0, None))
            continue
        out.append(Cohort(name, r.added, int(r.a90 or 0), int(r.d90 or 0), int(r.a180 or 0), int(r.d180 or 0), r.dealt,
                          None if r.deal_median is None else float(r.deal_median), r.completed,
                          None if r.complete_median is None else float(r.complete_median)))
    return out


# --- the quarter's forecast -------------------------------------------------------------
# Forecast = sourced revenue so far this quarter + the open sourced deal registrations
# (registered, under review or in conflict) expected to close in the quarter — by their
# expected close, else registered during it — each weighted by its partner's approve rate
# (approved ÷ decided, all its deals so far; the workspace's rate for a partner with none
# decided, 100 % when nothing was ever decided). A quarter that has ended has no pipeline.

OPEN = (DealStatus.REGISTERED.value, DealStatus.REVIEW.value, DealStatus.CONFLICT.value)


@dataclass(frozen=True)
class Forecast:
    quarter: str
    so_far: Decimal  # sourced revenue so far (the attainment section's revenue)
    pipeline: Decimal  # open registrations counted, unweighted
    deals: int  # how many
    weighted: Decimal  # … weighted by approve rates
    target: Decimal | None  # the revenue targets set for the quarter, summed

    @property
    def total(self) -> Decimal:
        return self.so_far + self.weighted

    @property
    def ratio(self) -> float | None:
        return float(self.total / self.target) if self.target else None


def _rate(approved, decided):
    return cast(approved, Numeric(18, 6)) / func.nullif(decided, 0)


def pipeline(session: Session, *, start: datetime, end: datetime, as_of: datetime,
             filters: Filters = Filters()) -> tuple[Decimal, int, Decimal]:
    """(open value, deals, weighted value) of the registrations the forecast counts; one statement."""
    if as_of >= end:
        return Decimal(0), 0, Decimal(0)
    approved = func.sum(case((DealRegistration.status == DealStatus.APPROVED.value, 1), else_=0))
    decided = (select(DealRegistration.partner_id, approved.label("approved"), func.count().label("decided"))
               .where(DealRegistration.status.in_((DealStatus.APPROVED.value, DealStatus.REJECTED.value)),
                      DealRegistration.decided_at <= as_of)
               .group_by(DealRegistration.partner_id).subquery())
    workspace = select(func.coalesce(_rate(func.sum(decided.c.approved), func.sum(decided.c.decided)), 1)).scalar_subquery()
    weight = func.coalesce(_rate(decided.c.approved, decided.c.decided), workspace)
    in_quarter = case(
        (DealRegistration.expected_close.is_not(None),
         and_(DealRegistration.expected_close >= start.date(), DealRegistration.expected_close < end.date())),
        else_=and_(DealRegistration.registered_at >= start, DealRegistration.registered_at < end))
    value, deals, weighted = session.execute(
        select(func.sum(DealRegistration.amount), func.count(), func.sum(DealRegistration.amount * weight))
        .join(Partner, Partner.id == DealRegistration.partner_id)
        .outerjoin(decided, decided.c.partner_id == DealRegistration.partner_id)
        .where(DealRegistration.status.in_(OPEN), DealRegistration.attribution == "sourced",
               DealRegistration.registered_at <= as_of, in_quarter, *filters.clauses())
    ).one()
    cents = Decimal("0.01")
    return Decimal(value or 0).quantize(cents), deals, Decimal(str(weighted or 0)).quantize(cents)


# --- the whole report -------------------------------------------------------------------


def quarter_span(quarter: str, *, fiscal_start: int, zone: ZoneInfo) -> tuple[list[str], datetime, datetime]:
    """A fiscal quarter's months and its [start, end) in the team's time zone."""
    months = quarter_months(quarter, fiscal_start=fiscal_start)
    return months, month_bounds(months[0], zone)[0], month_bounds(months[-1], zone)[1]


def quarter_before(quarter: str, *, fiscal_start: int) -> str:
    first = quarter_months(quarter, fiscal_start=fiscal_start)[0]
    year, month = int(first[:4]), int(first[5:7])
    return quarter_of(f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}", fiscal_start=fiscal_start)


COHORT_QUARTERS = 4  # the report's quarter and the three before it


@dataclass(frozen=True)
class Report:
    quarter: str
    as_of: datetime  # now, or the quarter's end for a quarter that is over
    quarter_end: datetime
    filters: Filters
    attainment: Attainments  # by owner (its total is the filtered workspace)
    by_type: Attainments
    funnel: Funnel
    funnel_before: Funnel  # the quarter before
    cohorts: list[Cohort]  # oldest first
    forecast: Forecast
    requests: list[TeamRequests]  # per team, over the quarter (storage/sla.py: the SLA clock's figures)
    requests_total: TeamRequests


def build(session: Session, *, quarter: str, now: datetime, settings: Settings, filters: Filters = Filters()) -> Report:
    """Every section of the report for one quarter (as of now, or its end when it is over):
    a dozen grouped statements, whatever the number of partners. Quarters follow
    PARTNERBOT_FISCAL_YEAR_START, days PARTNERBOT_TIMEZONE."""
    zone, fiscal_start = settings.zone, settings.fiscal_year_start
    months, start, end = quarter_span(quarter, fiscal_start=fiscal_start, zone=zone)
    as_of = min(now, end)
    # One pass by owner and type together, rolled up each way (the heaviest statement, read once).
    found = _grouped(session, quarter=quarter, months=months, as_of=as_of, zone=zone, groups=["owner", "type"], filters=filters)
    so_far = pace(months, as_of, zone)
    by_owner = _rolled(found, quarter=quarter, expected=so_far, at=0)
    by_type = _rolled(found, quarter=quarter, expected=so_far, at=1)
    before = quarter_before(quarter, fiscal_start=fiscal_start)
    _, before_start, _ = quarter_span(before, fiscal_start=fiscal_start, zone=zone)
    spans, name = [], quarter
    for _ in range(COHORT_QUARTERS):
        _, s, e = quarter_span(name, fiscal_start=fiscal_start, zone=zone)
        spans.insert(0, (name, s, e))
        name = quarter_before(name, fiscal_start=fiscal_start)
    revenue = by_owner.total.figures["revenue"]
    value, deals, weighted = pipeline(session, start=start, end=end, as_of=as_of, filters=filters)
    scoped = filters.clauses()
    teams = request_figures(session, start=start, end=end, now=as_of, settings=settings,
                            partner_ids=select(Partner.id).where(*scoped) if scoped else None)
    return Report(
        quarter=quarter, as_of=as_of, quarter_end=end, filters=filters, attainment=by_owner, by_type=by_type,
        funnel=funnel(session, quarter=quarter, start=start, end=as_of, filters=filters),
        funnel_before=funnel(session, quarter=before, start=before_start, end=start, filters=filters),
        cohorts=cohorts(session, quarters=spans, as_of=as_of, filters=filters),
        forecast=Forecast(quarter, revenue.sourced, value, deals, weighted, revenue.target),
        requests=teams, requests_total=all_teams(teams),
    )


# --- the same figures as rows (`partnerbot report --csv`) ---------------------------------

HEADER = ("section", "quarter", "group", "key", "metric", "measure", "value")


def _ratio(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 4)))


def flat(report: Report) -> Iterator[tuple]:
    """Every figure of the report as one long table (HEADER): a row per section, quarter,
    group (all, owner, type, stage, conversion, cohort), key, metric, measure and value;
    shares are fractions (0.15), money in the currency's units, days fractional."""
    q = report.quarter
    yield "attainment", q, "all", "", "", "pace", _ratio(report.attainment.pace)
    for group, rows in (("all", [report.attainment.total]), ("owner", report.attainment.rows), ("type", report.by_type.rows)):
        for row in rows:
            key = row.key or ""
            yield "attainment", q, group, key, "", "partners", row.partners
            for metric, f in row.figures.items():
                for measure, value in (("sourced", f.sourced), ("influenced", f.influenced), ("attained", f.attained),
                                       ("target", f.target), ("ratio", _ratio(f.ratio))):
                    yield "attainment", q, group, key, metric, measure, value
    for stages in (report.funnel_before, report.funnel):
        for stage, count in stages.counts.items():
            yield "funnel", stages.quarter, "stage", stage, "", "partners", count
        for c in stages.conversions:
            key = f"{c.stage}>{c.next}"
            for measure, value in (("entered", c.entered), ("moved_on", c.moved_on), ("rate", _ratio(c.rate))):
                yield "funnel", stages.quarter, "conversion", key, "", measure, value
    for c in report.cohorts:
        for measure in ("added", "aged_90", "deal_90", "aged_180", "deal_180", "with_deal", "median_days_to_deal",
                        "completed", "median_days_to_complete"):
            value = getattr(c, measure)
            yield "cohort", c.quarter, "cohort", "", "", measure, _ratio(value) if isinstance(value, float) else value
    f = report.forecast
    for measure, value in (("so_far", f.so_far), ("pipeline", f.pipeline), ("deals", f.deals), ("weighted", f.weighted),
                           ("forecast", f.total), ("target", f.target), ("ratio", _ratio(f.ratio))):
        yield "forecast", q, "all", "", "revenue", measure, value
    for group, teams in (("all", [report.requests_total]), ("team", report.requests)):
        for t in teams:
            past = None if t.past_sla_pct is None else t.past_sla_pct / 100
            for measure, value in (("sla_hours", t.sla_hours), ("opened", t.opened), ("resolved", t.resolved),
                                   ("median_claim_hours", t.median_claim_hours),
                                   ("median_resolve_hours", t.median_resolve_hours), ("past_sla", t.past_sla),
                                   ("past_sla_share", past), ("past_sla_now", len(t.past_sla_now))):
                yield "requests", q, group, t.team or "", "", measure, _ratio(value) if isinstance(value, float) else value

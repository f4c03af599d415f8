"""The Monday digest's figures: are we on pace, who is behind, what is stuck, what needs
someone. Each is one set-wise statement (or a few), whatever the number of partners;
long lists come back worst first and cut, with the full count beside them.

The week is the previous full week (Monday–Sunday, team time); the quarter is the one
its last day falls in, counted up to that day's month (SPEC §9). Pace is the share of
that quarter elapsed at the week's end. Quarter-to-date figures are the values known
now (the cards'); the change week over week and vs the same week last quarter comes
from the KPI history (storage/kpis.py quarter_totals), so it shows from the first digest on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.settings import Settings

from storage import kpis, onboarding, partners, qbrs, report, sla
from storage.deals import CONFLICT_WINDOW, HOLDING, UNDECIDED
from storage.health import open_conflict
from storage.health_rule import KPI_MAX_PENALTY, KPI_MIN_PENALTY, QUIET_DAYS, at_risk_clause
from storage.report import Figure
from storage.models import DealRegistration, DealStatus, Interaction, OnboardingStep, Partner, Qbr, Stage
from storage.periods import iso_week, local_today, month_bounds, month_of, quarter_months, quarter_of

SHOWN = 10  # rows of a long list shown; the rest are counted and pointed to


@dataclass(frozen=True)
class Week:
    """The digest's week and the quarter it reports."""

    label: str  # ISO week, e.g. 2026-W48 (the ledger period)
    start: datetime  # Monday 00:00 team time
    end: datetime  # the next Monday 00:00: the week's end, quarter-to-date "as of"
    quarter: str
    months: list[str]  # the quarter's months begun by the week's end
    pace: float  # share of the quarter elapsed at the week's end, 0–1
    last_quarter: str
    last_quarter_end: datetime  # the same point of the previous quarter (same time since its start)
    last_quarter_months: list[str]


def _quarter_span(quarter: str, *, zone: ZoneInfo, fiscal_start: int) -> tuple[datetime, datetime, list[str]]:
    months = quarter_months(quarter, fiscal_start=fiscal_start)
    return month_bounds(months[0], zone)[0], month_bounds(months[-1], zone)[1], months


def _begun(months: list[str], at: datetime, zone: ZoneInfo) -> list[str]:
    return [m for m in months if month_bounds(m, zone)[0] < at]


def week_of(now: datetime, *, zone: ZoneInfo, fiscal_start: int) -> Week:
    """The previous full week at `now`, its quarter and the same point of the quarter before."""
    today = local_today(now, zone)
    week_start = today - timedelta(days=today.weekday() + 7)
    start = datetime.combine(week_start, time(), zone)
    end = datetime.combine(week_start + timedelta(days=7), time(), zone)
    quarter = quarter_of(month_of(week_start + timedelta(days=6)), fiscal_start=fiscal_start)
    q_start, q_end, months = _quarter_span(quarter, zone=zone, fiscal_start=fiscal_start)
    previous = quarter_of(month_of(q_start.date() - timedelta(days=1)), fiscal_start=fiscal_start)
    p_start, p_end, p_months = _quarter_span(previous, zone=zone, fiscal_start=fiscal_start)
    same_point = min(p_start + (end - q_start), p_end)
    return Week(iso_week(week_start), start, end, quarter, _begun(months, end, zone),
                min((end - q_start) / (q_end - q_start), 1.0), previous, same_point, _begun(p_months, same_point, zone))


@dataclass(frozen=True)
class MetricFigures:
    """One KPI's line: quarter to date, against target and pace, and its change."""

    metric: str
    sourced: Decimal  # quarter to date, every partner
    influenced: Decimal
    attained: Decimal | None  # over the partners with a target, each judged as on its card
    target: Decimal | None
    pace: float | None  # share of the quarter elapsed; None for a level (adoption)
    week_ago: Decimal  # sourced, as known a week before, up to that week's end
    last_quarter: Decimal  # sourced, last quarter at the same point, as known then

    @property
    def ratio(self) -> float | None:
        return float(self.attained / self.target) if self.target and self.attained is not None else None

    @property
    def standing(self) -> str | None:
        return standing(self.ratio, self.pace)


BEHIND_BY = KPI_MIN_PENALTY / KPI_MAX_PENALTY


def standing(ratio: float | None, pace: float | None) -> str | None:
    """The KPI's standing: target met, on pace or behind (None without a target). Behind: short of pace
    by as much as health notices (storage.health_rule: 5 points of 50, a tenth of the
    target); a level (pace None: adoption) is judged as it stands, against its whole target."""
    if ratio is None:
        return None
    if ratio >= 1:
        return "target met"
    return "behind" if (1.0 if pace is None else pace) - ratio >= BEHIND_BY else "on pace"


def kpi_figures(*, session: Session, week: Week, now: datetime, zone: ZoneInfo,
                by_owner: report.Attainments) -> tuple[list[MetricFigures], list[tuple[str, Decimal]]]:
    """Each KPI's figures, and the top partners by sourced revenue. Now: the cards' figures
    (workspace_quarter; influenced from `/partner report`'s total, the same rules); before:
    the KPI history."""
    workspace = kpis.workspace_quarter(session=session, quarter=week.quarter, months=week.months, as_of=week.end, zone=zone)
    # A week ago, the digest reported the quarter up to the week before's end, as known then.
    week_ago = kpis.quarter_totals(session=session, months=_begun(week.months, week.end - timedelta(days=7), zone),
                                   at=now - timedelta(days=7))
    lag = now - week.end  # the run's delay after the week's end, kept for last quarter's "as known then"
    last = kpis.quarter_totals(session=session, months=week.last_quarter_months, at=week.last_quarter_end + lag)
    return [
        MetricFigures(
            metric, workspace.totals[metric], by_owner.total.figures[metric].influenced, workspace.attained.get(metric),
            workspace.targets.get(metric), None if metric in kpis.LEVELS else week.pace,
            week_ago["sourced"][metric], last["sourced"][metric],
        )
        for metric in ("revenue", "leads", "deals", "adoption")
    ], workspace.top


@dataclass(frozen=True)
class OwnerFigures:
    """One partner manager's row."""

    owner_id: str
    partners: int
    figures: dict[str, Figure]  # metric → storage.report's Figure over the owner's partners
    at_risk: int
    overdue_qbrs: int

    def shortfall(self, pace: float) -> float:
        """How far the owner's worst cumulative metric is behind pace (negative: ahead); 0 with no target."""
        gaps = [pace - f.ratio for m, f in self.figures.items() if m not in kpis.LEVELS and f.ratio is not None]
        return max(gaps, default=0.0)


def owner_figures(*, session: Session, now: datetime, zone: ZoneInfo, qbr_interval_days: int, pace: float,
                  by_owner: report.Attainments) -> list[OwnerFigures]:
    """One row per owner of a live partner, furthest behind pace first, then most at risk,
    then most QBRs overdue (attainment: `/partner report`'s owner rows)."""
    counts = {owner: risky or 0 for owner, risky in session.execute(
        select(Partner.owner_id, func.sum(case((at_risk_clause(), 1), else_=0)))
        .where(Partner.archived_at.is_(None)).group_by(Partner.owner_id))}
    overdue = qbrs.overdue_by_owner(session=session, held_before=local_today(now, zone) - timedelta(days=qbr_interval_days),
                                    created_before=now - timedelta(days=qbr_interval_days))
    rows = [OwnerFigures(r.key, r.partners, r.figures, counts[r.key], overdue.get(r.key, 0))
            for r in by_owner.rows if r.key in counts]
    return sorted(rows, key=lambda r: (-r.shortfall(pace), -r.at_risk, -r.overdue_qbrs, r.owner_id))


@dataclass(frozen=True)
class Waiting:
    """A deal registration waiting for a decision, and who must make it."""

    deal_id: int
    partner: str
    owner_id: str
    customer: str
    amount: Decimal
    registered_at: datetime
    conflict: bool  # a conflict: an admin decides; else a partner's submission: its owner (or an admin)


@dataclass(frozen=True)
class Pipeline:
    registered: int  # registrations made this week
    registered_value: Decimal
    holding: int  # registrations holding their customer (open or approved, within the conflict window)
    holding_value: Decimal
    waiting: list[Waiting]  # oldest first, at most SHOWN
    waiting_total: int
    conflicts: int  # of waiting_total, conflicts (the rest are partner submissions under review)


def pipeline(*, session: Session, week: Week) -> Pipeline:
    in_week = and_(DealRegistration.registered_at >= week.start, DealRegistration.registered_at < week.end)
    holding = and_(DealRegistration.status.in_(HOLDING), DealRegistration.registered_at >= week.end - CONFLICT_WINDOW,
                   DealRegistration.registered_at < week.end)
    undecided = DealRegistration.status.in_(UNDECIDED)
    live = Partner.archived_at.is_(None)

    def count_and_sum(condition):
        return func.sum(case((condition, 1), else_=0)), func.sum(case((condition, DealRegistration.amount), else_=0))

    row = session.execute(
        select(*count_and_sum(in_week), *count_and_sum(holding), func.sum(case((undecided, 1), else_=0)),
               func.sum(case((open_conflict(), 1), else_=0)))
        .join(Partner, Partner.id == DealRegistration.partner_id).where(live)
    ).one()
    waiting = [
        Waiting(d.id, name, owner, d.customer, d.amount, d.registered_at,
                d.status == DealStatus.CONFLICT or d.conflict_with_id is not None)  # open_conflict(), per row
        for d, name, owner in session.execute(
            select(DealRegistration, Partner.name, Partner.owner_id).join(Partner, Partner.id == DealRegistration.partner_id)
            .where(undecided, live).order_by(DealRegistration.registered_at, DealRegistration.id).limit(SHOWN)
        )
    ]
    registered, registered_value, held, held_value, waiting_total, conflicts = (v or 0 for v in row)
    return Pipeline(registered, Decimal(registered_value), held, Decimal(held_value), waiting, waiting_total, conflicts)


@dataclass(frozen=True)
class Named:
    """A partner in one of the digest's lists."""

    name: str
    owner_id: str
    detail: str = ""  # what the list says about it (a stage, a step, a date)
    days: int = 0  # how long (stalled, quiet)


@dataclass(frozen=True)
class Movement:
    new: list[Named]
    new_total: int
    stage_changes: dict[str, int]  # stage moved to this week → partners (new partners not counted)
    onboarded: list[Named]  # onboarding checklists completed this week
    onboarded_total: int
    quiet: list[Named]  # gone quiet this week (no interaction nor partner activity in QUIET_DAYS), longest first
    quiet_total: int
    stalled: list[Named]  # stalled in onboarding, longest first
    stalled_total: int

    @property
    def anything(self) -> bool:
        return bool(self.new_total or self.stage_changes or self.onboarded_total or self.quiet_total or self.stalled_total)


def _listed(session: Session, query, limit: int = SHOWN) -> tuple[list, int]:
    """The first `limit` rows of a query and, beside them, how many there are in all."""
    counted = query.add_columns(func.count().over().label("total")).limit(limit)
    rows = session.execute(counted).all()
    return [tuple(r)[:-1] for r in rows], (rows[0][-1] if rows else 0)


def movement(*, session: Session, week: Week, stall_days: int) -> Movement:
    live = Partner.archived_at.is_(None)
    new, new_total = _listed(session, select(Partner.name, Partner.owner_id, Partner.stage)
                             .where(live, Partner.created_at >= week.start, Partner.created_at < week.end)
                             .order_by(Partner.created_at, Partner.name_key))
    stages = dict(session.execute(
        select(Partner.stage, func.count()).where(live, Partner.stage_changed_at >= week.start, Partner.stage_changed_at < week.end,
                                                   Partner.created_at < week.start).group_by(Partner.stage)
    ).all())
    # A checklist completed this week: every step of its type done, the last one this week.
    steps = case(*((Partner.type == kind, len(listed)) for kind, listed in onboarding.STEPS.items()), else_=0)
    done = (select(OnboardingStep.partner_id, func.count().label("done"), func.max(OnboardingStep.done_at).label("last"))
            .group_by(OnboardingStep.partner_id).subquery())
    onboarded, onboarded_total = _listed(session, select(Partner.name, Partner.owner_id)
                                         .join(done, done.c.partner_id == Partner.id)
                                         .where(live, done.c.done >= steps, done.c.last >= week.start, done.c.last < week.end)
                                         .order_by(done.c.last, Partner.name_key))
    # Gone quiet this week: the later of the last interaction and the partner's last message
    # in its channel (health's "touch") passed QUIET_DAYS during the week.
    # (A partner's latest interaction by index, one seek each: no pass over all interactions.)
    touched = (select(func.max(Interaction.occurred_at)).where(Interaction.partner_id == Partner.id)
               .correlate(Partner).scalar_subquery())
    quiet_from, quiet_to = week.start - timedelta(days=QUIET_DAYS), week.end - timedelta(days=QUIET_DAYS)
    candidates = (select(Partner.name, Partner.name_key, Partner.owner_id, Partner.partner_active_at, touched.label("touched"))
                  .where(live, Partner.stage != Stage.CHURNED.value).subquery())
    last = case((and_(candidates.c.partner_active_at.is_not(None),
                      candidates.c.touched.is_(None) | (candidates.c.partner_active_at > candidates.c.touched)),
                 candidates.c.partner_active_at), else_=candidates.c.touched)
    quiet, quiet_total = _listed(session, select(candidates.c.name, candidates.c.owner_id, last)
                                 .where(last >= quiet_from, last < quiet_to).order_by(last, candidates.c.name_key))
    stalled, stalled_total = _stalled(session, week=week, stall_days=stall_days)
    return Movement(
        [Named(name, owner, stage) for name, owner, stage in new], new_total, stages,
        [Named(name, owner) for name, owner in onboarded], onboarded_total,
        [Named(name, owner, "", (week.end - _aware(at)).days) for name, owner, at in quiet], quiet_total,
        stalled, stalled_total,
    )


def _stalled(session: Session, *, week: Week, stall_days: int) -> tuple[list[Named], int]:
    """Onboarding stalled at the week's end (storage.onboarding's rule), longest first: the
    first SHOWN with the step each is stuck on, and how many there are (two statements)."""
    since = week.end - timedelta(days=stall_days)
    rows, total = _listed(session, select(Partner.id, Partner.name, Partner.owner_id, Partner.type, onboarding.last_change())
                          .where(*onboarding.stalled_where(since, None)).order_by(onboarding.last_change(), Partner.name_key, Partner.id))
    done: dict[int, set[str]] = {}
    for pid, step in session.execute(select(OnboardingStep.partner_id, OnboardingStep.step)
                                     .where(OnboardingStep.partner_id.in_([r[0] for r in rows]))):
        done.setdefault(pid, set()).add(step)
    named = []
    for pid, name, owner, kind, changed in rows:
        step = next((label for key, label in onboarding.STEPS.get(kind, []) if key not in done.get(pid, set())), "")
        named.append(Named(name, owner, step, (week.end - _aware(changed)).days))
    return named, total


def _aware(value: datetime) -> datetime:
    """A timestamp read through a computed column may come back naive (UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Digest:
    """Everything the digest shows."""

    week: Week
    kpis: list[MetricFigures]
    top: list[tuple[str, Decimal]]
    owners: list[OwnerFigures]
    pipeline: Pipeline
    movement: Movement
    activity: dict[str, int]  # this week: interactions logged, deals registered, requests opened and resolved
    requests: list[sla.TeamRequests]  # per team: this week's, and those past SLA now
    at_risk: list[Partner]  # worst first
    upcoming: list[tuple[Qbr, Partner]]


def collect(*, session: Session, now: datetime, settings: Settings) -> Digest:
    zone = settings.zone
    week = week_of(now, zone=zone, fiscal_start=settings.fiscal_year_start)
    by_owner = report.attainment_by(session, quarter=week.quarter, months=week.months, as_of=week.end, zone=zone, group="owner")
    figures, top = kpi_figures(session=session, week=week, now=now, zone=zone, by_owner=by_owner)
    today = local_today(now, zone)
    return Digest(
        week=week, kpis=figures, top=top,
        owners=owner_figures(session=session, now=now, zone=zone, qbr_interval_days=settings.qbr_interval_days,
                             pace=week.pace, by_owner=by_owner),
        pipeline=pipeline(session=session, week=week),
        movement=movement(session=session, week=week, stall_days=settings.stall_days),
        activity=partners.activity(session=session, start=week.start, end=week.end),
        requests=sla.request_figures(session, start=week.start, end=week.end, now=now, settings=settings),
        at_risk=partners.at_risk(session=session),
        upcoming=qbrs.upcoming_qbrs(session=session, start=today, end=today + timedelta(days=7)),
    )

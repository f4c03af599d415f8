"""Partner health: one function, one stored score per partner, one "at risk" rule.

`assess()` scores a partner 0–100 from all its signals. Start at 100 and subtract:
- stage: at-risk −30; churned scores 0 outright;
- recency of interactions: no touch in 30+ days −15, in 60+ days −30;
- KPI pace this quarter (metrics with a target, judged by storage.kpis.judge):
  50 points × (share of the target's time passed − share of the target
  reached), when that is 5 points or more; the worst metric counts. The
  target's time is the quarter, or only its months that have month targets;
  adoption is a level: 50 × (1 − share reached), not prorated. At 4 % of target at the end of the quarter
  that is −48 ("revenue at 4% of target, 96% behind pace"); at 25 % half-way
  through it is −12;
- QBR cadence: no QBR held within `qbr_interval_days` (active or at-risk
  partners older than that) −15;
- onboarding: in onboarding with no checklist progress for `stall_days` −15;
- open deal conflicts: −10.

The label, and every count of "at risk": at risk when the stage is `at-risk`
or the score is below 40; 40–69 needs attention; 70+ healthy.

The score is stored on the partner (`health_score`, `health_reasons`,
`health_at`) and every surface reads the stored one. It is kept current in the
same transaction as every write that changes a signal: `track()` watches the
session (ORM objects and bulk statements alike) for interactions, KPI values
and targets, QBRs, deal registrations, onboarding steps and partner rows, and
recomputes the touched partners, set-based, before the commit (or earlier,
when a reply asks for it through `settle()`). Time alone also changes health
(30 quiet days, the quarter's pace, an overdue QBR, a stall): the hourly
`health-refresh` job recomputes every partner, set-based.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, event, func, or_, select, update
from sqlalchemy.orm import Session, attributes
from sqlalchemy.orm.util import identity_key

from storage.models import DealRegistration, DealStatus, Interaction, KpiTarget, KpiValue, OnboardingStep, Partner, Qbr, Stage
from storage.periods import local_today, month_bounds, month_of, quarter_months, quarter_of

QUIET_DAYS, QUIET_PENALTY = 30, 15
SILENT_DAYS, SILENT_PENALTY = 60, 30
AT_RISK_PENALTY = 30
KPI_MAX_PENALTY = 50  # points for being a whole quarter behind pace
KPI_MIN_PENALTY = 5  # smaller shortfalls are noise (a deal booked a few days late)
QBR_OVERDUE_PENALTY = 15
STALLED_PENALTY = 15
CONFLICT_PENALTY = 10
AT_RISK_BELOW = 40
HEALTHY_FROM = 70


def label_for(score: int | None, stage: str) -> str:
    """The one rule: at risk when the stage says so or the score is below 40."""
    if stage == Stage.AT_RISK or (score is not None and score < AT_RISK_BELOW):
        return "at risk"
    if score is None:
        return "not scored yet"
    return "healthy" if score >= HEALTHY_FROM else "needs attention"


def at_risk_clause():
    """`label_for(...) == "at risk"` as SQL, over the stored score (tests check they agree)."""
    return or_(Partner.stage == Stage.AT_RISK.value, Partner.health_score < AT_RISK_BELOW)


@dataclass(frozen=True)
class Health:
    score: int | None
    reasons: list[str] = field(default_factory=list)
    stage: str = ""

    @property
    def label(self) -> str:
        return label_for(self.score, self.stage)

    @property
    def sort_key(self) -> int:
        """Worst first; a partner not scored yet goes last."""
        return 101 if self.score is None else self.score


@dataclass(frozen=True)
class Signals:
    """What health is computed from; fields left None are not judged."""

    stage: str
    created_at: datetime
    last_touch: datetime | None
    # (metric, actual, target[, elapsed]) for metrics with a target this quarter; elapsed is
    # the share of the target's months passed (default: quarter_elapsed), None for a level
    attainment: list[tuple] | None = None
    quarter_elapsed: float = 1.0  # share of the quarter passed, 0–1
    last_qbr: date | None = None
    onboarding_since: datetime | None = None  # last checklist change (or creation)
    open_conflicts: int = 0


@dataclass(frozen=True)
class Rules:
    """The settings health depends on."""

    qbr_interval_days: int = 90
    stall_days: int = 14
    zone: ZoneInfo = ZoneInfo("UTC")
    fiscal_year_start: int = 1

    @classmethod
    def of(cls, settings: Any) -> Rules:
        return cls(settings.qbr_interval_days, settings.stall_days, settings.zone, settings.fiscal_year_start)


_rules = Rules()


def configure(settings: Any) -> None:
    """Use this process's settings for stored scores (like `storage.db.configure` for the URL)."""
    global _rules
    _rules = Rules.of(settings)


def rules() -> Rules:
    return _rules


def kpi_penalty(metric: str, ratio: float, elapsed: float | None) -> tuple[int, str] | None:
    """Continuous in the shortfall: 50 × (share of the target's time passed − share of target
    reached); a level (elapsed None: adoption) is judged as it stands, 50 × (1 − share)."""
    if elapsed is None:
        penalty = round(KPI_MAX_PENALTY * (1 - ratio))
        return (penalty, f"{metric} at {ratio:.0%} of target") if penalty >= KPI_MIN_PENALTY else None
    elapsed = min(max(elapsed, 0.0), 1.0)
    penalty = round(KPI_MAX_PENALTY * (elapsed - ratio))
    if penalty < KPI_MIN_PENALTY:
        return None
    behind = 1 - ratio / elapsed
    return penalty, f"{metric} at {ratio:.0%} of target, {behind:.0%} behind pace"


def assess(signals: Signals, *, now: datetime, qbr_interval_days: int = 90, stall_days: int = 14) -> Health:
    s = signals
    if s.stage == Stage.CHURNED:
        return Health(0, ["churned"], s.stage)
    penalties: list[tuple[int, str]] = []
    if s.stage == Stage.AT_RISK:
        penalties.append((AT_RISK_PENALTY, "marked at-risk"))
    days = (now - (s.last_touch or s.created_at)).days
    never = s.last_touch is None
    if days >= QUIET_DAYS:
        penalty = SILENT_PENALTY if days >= SILENT_DAYS else QUIET_PENALTY
        penalties.append((penalty, f"never contacted in {days} days" if never else f"no interaction in {days} days"))
    kpi = [
        found
        for metric, actual, target, *elapsed in (s.attainment or [])
        if target and (found := kpi_penalty(metric, actual / target, elapsed[0] if elapsed else s.quarter_elapsed))
    ]
    if kpi:
        penalties.append(max(kpi, key=lambda p: p[0]))
    if (now - s.created_at).days > qbr_interval_days and s.stage in (Stage.ACTIVE, Stage.AT_RISK):
        if s.last_qbr is None:
            penalties.append((QBR_OVERDUE_PENALTY, "no QBR held yet"))
        elif (now.date() - s.last_qbr).days > qbr_interval_days:
            penalties.append((QBR_OVERDUE_PENALTY, f"last QBR {(now.date() - s.last_qbr).days} days ago"))
    if s.stage == Stage.ONBOARDING:
        stalled = (now - (s.onboarding_since or s.created_at)).days
        if stalled >= stall_days:
            penalties.append((STALLED_PENALTY, f"onboarding stalled for {stalled} days"))
    if s.open_conflicts:
        penalties.append((CONFLICT_PENALTY, f"{s.open_conflicts} deal conflict{'s' if s.open_conflicts > 1 else ''} open"))
    penalties.sort(key=lambda p: -p[0])
    score = max(100 - sum(p for p, _ in penalties), 0)
    return Health(score, [r for _, r in penalties] or ["in good shape"], s.stage)


def quarter_progress(now: datetime, zone: ZoneInfo, fiscal_start: int) -> tuple[str, list[str], float]:
    """This fiscal quarter, its months, and the share of it that has passed."""
    quarter = quarter_of(month_of(local_today(now, zone)), fiscal_start=fiscal_start)
    months = quarter_months(quarter, fiscal_start=fiscal_start)
    start, _ = month_bounds(months[0], zone)
    _, end = month_bounds(months[-1], zone)
    return quarter, months, (now - start) / (end - start)


# --- stored health ------------------------------------------------------------------

def stored(partner: Partner) -> Health:
    """The stored health of a partner row: what every surface shows."""
    reasons = json.loads(partner.health_reasons) if partner.health_reasons else []
    return Health(partner.health_score, reasons, partner.stage)


def _chunks(ids: list[int], size: int = 900) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def gather(*, session: Session, now: datetime, rules: Rules, partner_ids: list[int] | None = None) -> dict[int, tuple[Signals, int | None, str | None]]:
    """Signals of many partners in six statements, whatever their number:
    id → (signals, stored score, stored reasons)."""

    def only(column):
        return [column.in_(partner_ids)] if partner_ids is not None else []

    quarter, months, elapsed = quarter_progress(now, rules.zone, rules.fiscal_year_start)
    base = session.execute(
        select(Partner.id, Partner.stage, Partner.created_at, Partner.onboarding_changed_at, Partner.health_score, Partner.health_reasons)
        .where(*only(Partner.id))
    ).all()
    if not base:
        return {}
    touched = dict(session.execute(
        select(Interaction.partner_id, func.max(Interaction.occurred_at)).where(*only(Interaction.partner_id)).group_by(Interaction.partner_id)
    ).all())
    qbrs = dict(session.execute(
        select(Qbr.partner_id, func.max(Qbr.held_on)).where(Qbr.held_on.is_not(None), *only(Qbr.partner_id)).group_by(Qbr.partner_id)
    ).all())
    conflicts = dict(session.execute(
        select(DealRegistration.partner_id, func.count())
        .where(DealRegistration.status == DealStatus.CONFLICT.value, *only(DealRegistration.partner_id))
        .group_by(DealRegistration.partner_id)
    ).all())
    attainment = _attainment(session=session, quarter=quarter, months=months, now=now, rules=rules, partner_ids=partner_ids)
    out = {}
    for pid, stage, created_at, onboarding_at, score, reasons in base:
        # Times read through a Core select of the ORM columns come back aware (UTCDateTime).
        signals = Signals(
            stage=stage, created_at=created_at, last_touch=_aware(touched.get(pid)),
            attainment=attainment.get(pid), quarter_elapsed=elapsed, last_qbr=qbrs.get(pid),
            onboarding_since=onboarding_at, open_conflicts=conflicts.get(pid, 0),
        )
        out[pid] = (signals, score, reasons)
    return out


def _aware(value: datetime | None) -> datetime | None:
    # func.max() loses the column type on some databases: put the UTC zone back.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _attainment(*, session: Session, quarter: str, months: list[str], now: datetime, rules: Rules,
                partner_ids: list[int] | None) -> dict[int, list[tuple[str, float, float, float | None]]]:
    """(metric, actual, target, elapsed) per partner with a target this quarter, by the
    card's rule (storage.kpis.judge): elapsed is the share of the target's months
    passed, None for a level (adoption), which is not judged by pace."""
    from storage.kpis import attainments

    found = attainments(session=session, quarter=quarter, months=months, as_of=now, zone=rules.zone,
                        partner_ids=partner_ids, with_targets_only=True)
    out = {}
    for pid, rows in found.items():
        judged = [(a.metric, float(a.actual), float(a.target), a.elapsed) for a in rows if a.target]
        if judged:
            out[pid] = judged
    return out


WHOLE_PASS = 2_000  # more partners than this are refreshed in one pass over every partner
HEALTH_WRITE = "partnerbot_health_write"  # execution option: our own UPDATE is not a signal


def refresh(*, session: Session, now: datetime, rules: Rules | None = None, partner_ids: Iterable[int] | None = None,
            missing_only: bool = False, dry_run: bool = False) -> int:
    """Recompute and store the health of these partners (all when None); returns
    how many stored scores changed. Set-based: a fixed number of statements per
    900 partners, and only rows whose score or reasons changed are written
    (none with `dry_run`)."""
    rules = rules or _rules
    if missing_only:
        partner_ids = list(session.scalars(select(Partner.id).where(Partner.health_score.is_(None))))
    wanted = None if partner_ids is None else set(partner_ids)
    # Many partners (a demo, an import, a CRM sync): one pass over all beats many IN-lists.
    batches: Iterable[list[int] | None] = [None] if wanted is None or len(wanted) > WHOLE_PASS else _chunks(sorted(wanted))
    changed = 0
    for batch in batches:
        if batch is not None and not batch:
            continue
        rows = []
        for pid, (signals, score, reasons) in gather(session=session, now=now, rules=rules, partner_ids=batch).items():
            if wanted is not None and pid not in wanted:
                continue
            health = assess(signals, now=now, qbr_interval_days=rules.qbr_interval_days, stall_days=rules.stall_days)
            text = json.dumps(health.reasons)
            if health.score != score or text != reasons:
                rows.append({"pid": pid, "score": health.score, "reasons": text, "at": now})
        if rows and not dry_run:
            rows.sort(key=lambda r: r["pid"])  # one lock order for every writer (PostgreSQL row locks)
            _write(session, rows)
        changed += len(rows)
    return changed


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    table = Partner.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("pid"))
        # updated_at keeps its value: a new score is not an edit of the partner.
        .values(health_score=bindparam("score"), health_reasons=bindparam("reasons"), health_at=bindparam("at"),
                updated_at=table.c.updated_at)
        .execution_options(**{HEALTH_WRITE: True})
    )
    session.execute(statement, rows)
    # Partner objects already loaded in this session show the new score too.
    for row in rows:
        partner = session.identity_map.get(identity_key(Partner, row["pid"]))
        if partner is not None:
            attributes.set_committed_value(partner, "health_score", row["score"])
            attributes.set_committed_value(partner, "health_reasons", row["reasons"])
            attributes.set_committed_value(partner, "health_at", row["at"])


# --- keeping the stored score current (the session watch) ---------------------------

PENDING = "partnerbot_health_pending"  # session.info: partner ids whose signals changed
NEW_PARTNERS = "partnerbot_health_new"  # session.info: partners were bulk-inserted (ids unknown)
AS_OF = "partnerbot_health_now"  # session.info: the as-of time of this unit of work, if not the clock
SIGNAL_MODELS = (Interaction, KpiValue, KpiTarget, Qbr, DealRegistration, OnboardingStep)
SIGNAL_TABLES = {m.__tablename__ for m in SIGNAL_MODELS}
PARTNER_SIGNALS = ("stage", "created_at", "onboarding_changed_at")


def as_of(session: Session, now: datetime) -> None:
    """Score this unit of work's changes as of `now` (a job run as of another time)."""
    session.info[AS_OF] = now


def settle(session: Session) -> None:
    """Store the health of every partner whose signals changed in this session so far.

    Runs before each commit; a reply that shows health calls it first."""
    session.flush()
    pending: set[int] = session.info.pop(PENDING, set())
    new = session.info.pop(NEW_PARTNERS, False)
    if not pending and not new:
        return
    now = session.info.get(AS_OF) or datetime.now(timezone.utc)
    if pending:
        refresh(session=session, now=now, partner_ids=pending)
    if new:
        refresh(session=session, now=now, missing_only=True)


def current(session: Session, partner: Partner) -> Health:
    """The stored health of one partner after this session's changes."""
    settle(session)
    return stored(partner)


def _pending(session: Session) -> set[int]:
    return session.info.setdefault(PENDING, set())


def _after_flush(session: Session, _context) -> None:
    pending = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, SIGNAL_MODELS):
            if obj.partner_id is not None:
                pending.add(obj.partner_id)
        elif isinstance(obj, Partner) and obj not in session.deleted:
            if obj in session.new or any(attributes.get_history(obj, name).has_changes() for name in PARTNER_SIGNALS):
                pending.add(obj.id)


def _on_execute(state) -> None:
    """Bulk statements bypass the unit of work's object tracking: note whom they touch."""
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get(HEALTH_WRITE):
        return
    statement = state.statement
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if name != Partner.__tablename__ and name not in SIGNAL_TABLES:
        return
    session = state.session
    if state.is_insert:
        if name == Partner.__tablename__:
            session.info[NEW_PARTNERS] = True
            return
        params = state.parameters
        rows = params if isinstance(params, list) else [params] if params else []
        ids = {row.get("partner_id") for row in rows if isinstance(row, dict)}
        if not rows:
            ids = {statement.compile().params.get("partner_id")}
        _pending(session).update(i for i in ids if i is not None)
        return
    column = table.c.id if name == Partner.__tablename__ else table.c.partner_id
    query = select(column).distinct()
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    _pending(session).update(session.execute(query).scalars())


def _before_commit(session: Session) -> None:
    settle(session)


def track(target: Any) -> None:
    """Watch a sessionmaker (or Session class) so stored health follows every write."""
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "do_orm_execute", _on_execute)
        event.listen(target, "before_commit", _before_commit)

"""Partner health, stored: one score per partner, kept current.

The score itself is `storage.health_rule.assess()` (the rule and its penalties
are described there); its names are importable from here too.

The score is stored on the partner (`health_score`, `health_reasons`,
`health_at`) and every surface reads the stored one. It is kept current in the
same transaction as every write that changes a signal: `track()` watches the
session (ORM objects and bulk statements alike) for interactions, KPI values
and targets, QBRs, deal registrations, onboarding steps and partner rows, and
recomputes the touched partners, set-based, before the commit (or earlier,
when a reply asks for it through `settle()`). A partner's messages in its own
channel (storage/activity.py) are a signal too, through `partners.partner_active_at`.
Time alone also changes health (30 quiet days, the quarter's pace, an overdue QBR,
a stall): the hourly `health-refresh` job recomputes every partner, set-based.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, event, func, or_, select, update
from sqlalchemy.orm import Session, attributes
from sqlalchemy.orm.util import identity_key

from storage import bulk
from storage.models import DealRegistration, DealStatus, Interaction, KpiTarget, KpiValue, OnboardingStep, Partner, Qbr
from storage.health_rule import Health, Signals, assess, at_risk_clause, label_for, quarter_progress  # noqa: F401 (storage.health.* for callers)


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
        select(Partner.id, Partner.stage, Partner.created_at, Partner.onboarding_changed_at, Partner.partner_active_at,
               Partner.health_score, Partner.health_reasons)
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
        .where(open_conflict(), *only(DealRegistration.partner_id))
        .group_by(DealRegistration.partner_id)
    ).all())
    attainment = _attainment(session=session, quarter=quarter, months=months, now=now, rules=rules, partner_ids=partner_ids)
    out = {}
    for pid, stage, created_at, onboarding_at, active_at, score, reasons in base:
        # Times read through a Core select of the ORM columns come back aware (UTCDateTime).
        signals = Signals(
            stage=stage, created_at=created_at, last_touch=_aware(touched.get(pid)), partner_active=active_at,
            attainment=attainment.get(pid), quarter_elapsed=elapsed, last_qbr=qbrs.get(pid),
            onboarding_since=onboarding_at, open_conflicts=conflicts.get(pid, 0),
        )
        out[pid] = (signals, score, reasons)
    return out


def open_conflict():
    """A deal registration that is an open conflict: flagged CONFLICT, or submitted by the
    partner and waiting for review while it clashes with another partner's."""
    return or_(DealRegistration.status == DealStatus.CONFLICT.value,
               and_(DealRegistration.status == DealStatus.REVIEW.value, DealRegistration.conflict_with_id.is_not(None)))


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
# Execution option: the writer knows this statement cannot change any score (a partner's
# second message of the day, storage/activity.py); card versions still follow it.
NOT_A_SIGNAL = "partnerbot_health_not_a_signal"


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
PARTNER_SIGNALS = ("stage", "created_at", "onboarding_changed_at", "partner_active_at")


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
    if not bulk.touches_partners(state) or state.execution_options.get(HEALTH_WRITE) or state.execution_options.get(NOT_A_SIGNAL):
        return
    name = state.statement.table.name
    if name != Partner.__tablename__ and name not in SIGNAL_TABLES:
        return
    if state.is_insert and name == Partner.__tablename__:
        state.session.info[NEW_PARTNERS] = True
        return
    _pending(state.session).update(bulk.partner_ids(state))


def _before_commit(session: Session) -> None:
    settle(session)


def track(target: Any) -> None:
    """Watch a sessionmaker (or Session class) so stored health follows every write."""
    if not event.contains(target, "after_flush", _after_flush):
        event.listen(target, "after_flush", _after_flush)
        event.listen(target, "do_orm_execute", _on_execute)
        event.listen(target, "before_commit", _before_commit)

"""The audit trail, `/partner history` and `/partner undo`: each change stores
the partner it is about and how to reverse it (or that it cannot be reversed)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage import kpis
from storage.models import Change, HelpRequest, Interaction, KpiTarget, OnboardingStep, Partner, Qbr

UNDO_WINDOW = timedelta(minutes=10)
PARTNER_FIELDS = ("name", "name_key", "stage", "stage_changed_at", "owner_id", "archived_at", "slack_channel_id", "crm_id")
# Changes on the record that `undo` does not reverse (it says so, and how to put things back).
IRREVERSIBLE = frozenset({"partners.reassign", "deal.register", "deal.decide"})


class CannotUndo(Exception):
    """The change cannot be reversed as things stand now; nothing was changed."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "dec" in value:
            return Decimal(value["dec"])
    return value


def _partner_of(session: Session, undo: dict[str, Any]) -> int | None:
    """The partner a change is about, from what its undo needs."""
    if isinstance(undo.get("partner_id"), int):
        return undo["partner_id"]
    if isinstance(undo.get("key"), dict) and isinstance(undo["key"].get("partner_id"), int):
        return undo["key"]["partner_id"]
    if "interaction_id" in undo:
        return session.scalar(select(Interaction.partner_id).where(Interaction.id == undo["interaction_id"]))
    if "qbr_id" in undo:
        return session.scalar(select(Qbr.partner_id).where(Qbr.id == undo["qbr_id"]))
    return None


def record(
    *, session: Session, user_id: str, kind: str, summary: str, undo: dict[str, Any], now: datetime, partner_id: int | None = None,
    team_id: str | None = None,
) -> None:
    """One change that happened; `team_id` names the actor's organisation when it is not
    ours (a partner acting from its channel)."""
    payload = {k: ({f: _plain(v) for f, v in val.items()} if isinstance(val, dict) else _plain(val)) for k, val in undo.items()}
    if partner_id is None:
        partner_id = _partner_of(session, undo)
    session.add(Change(user_id=user_id, kind=kind, summary=summary, undo=json.dumps(payload), at=now, partner_id=partner_id,
                       team_id=team_id))
    session.flush()


def partner_fields(partner: Partner) -> dict[str, Any]:
    return {f: getattr(partner, f) for f in PARTNER_FIELDS}


def data(change: Change) -> dict[str, Any]:
    """The change's stored undo payload, with dates and amounts restored."""
    return {k: ({f: _restore(v) for f, v in val.items()} if isinstance(val, dict) and not {"dt", "d", "dec"} & set(val) else _restore(val))
            for k, val in json.loads(change.undo).items()}


# --- undo ------------------------------------------------------------------------

def last_change(*, session: Session, user_id: str) -> Change | None:
    """The caller's newest change still in effect (whatever its age: the caller is told why an old one stays)."""
    return session.scalar(
        select(Change).where(Change.user_id == user_id, Change.undone_at.is_(None)).order_by(Change.id.desc()).limit(1)
    )


def last_undone(*, session: Session, user_id: str) -> Change | None:
    """The change the caller's latest `undo` reversed."""
    return session.scalar(
        select(Change).where(Change.user_id == user_id, Change.undone_at.is_not(None))
        .order_by(Change.undone_at.desc(), Change.id).limit(1)
    )


def _same(a: Any, b: Any) -> bool:
    # SQLite hands datetimes back without a zone; the payload keeps it (UTC).
    if isinstance(a, datetime) and isinstance(b, datetime):
        a, b = (x if x.tzinfo else x.replace(tzinfo=timezone.utc) for x in (a, b))
    return a == b


def changed_fields(*, session: Session, change: Change) -> set[str]:
    """The partner fields a `partner.fields` / `step.done` change actually changed:
    its snapshot (the values before it) against the values right after it, which
    are the next snapshot of that field on the partner, or the partner as it is now."""
    before = data(change).get("fields") or {}
    if not before or change.partner_id is None:
        return set()
    later = session.scalars(
        select(Change).where(Change.partner_id == change.partner_id, Change.id > change.id,
                             Change.kind.in_(("partner.fields", "step.done"))).order_by(Change.id)
    ).all()
    partner = session.get(Partner, change.partner_id)
    changed = set()
    for field, value in before.items():
        after = next((data(c)["fields"][field] for c in later if field in (data(c).get("fields") or {})),
                     getattr(partner, field, value) if partner is not None else value)
        if not _same(value, after):
            changed.add(field)
    return changed


def touches(*, session: Session, change: Change) -> set[str]:
    """What of its partner a change is about — a field, a KPI month, the QBR plan, one
    interaction —; `*` for all of it (adding the partner). Two changes clash only
    when these meet."""
    values = data(change)
    kind = change.kind
    if kind in ("partner.fields", "step.done"):
        found = {f"field:{f}" for f in changed_fields(session=session, change=change)}
        return found | ({f"step:{values['step']}"} if kind == "step.done" else set())
    if kind == "interaction.add":
        return {f"interaction:{values['interaction_id']}"}
    if kind in ("kpi.set", "target.set"):
        return {f"{kind}:" + json.dumps(json.loads(change.undo)["key"], sort_keys=True)}
    if kind.startswith("qbr."):
        return {"qbr"}
    if kind.startswith("deal."):
        return {f"deal:{values.get('deal_id')}"}
    if kind == "partners.reassign":
        return {"field:owner_id"}
    return {"*"}


def newer_by_others(*, session: Session, change: Change) -> Change | None:
    """The newest later change by someone else to the same thing (the same partner
    and field, KPI month, QBR plan…): undoing would overwrite it. Someone logging a
    call after my stage change does not block undoing the stage change."""
    if change.partner_id is None:
        return None
    newer = session.scalars(
        select(Change)
        .where(Change.partner_id == change.partner_id, Change.id > change.id, Change.user_id != change.user_id, Change.undone_at.is_(None))
        .order_by(Change.id.desc())
    ).all()
    if not newer:
        return None
    mine = touches(session=session, change=change)
    for other in newer:
        theirs = touches(session=session, change=other)
        if "*" in mine or "*" in theirs or mine & theirs:
            return other
    return None


def newer_request(*, session: Session, user_id: str, since: datetime) -> tuple[HelpRequest, str] | None:
    """A request the caller asked, claimed or resolved after `since` (requests are not undone)."""
    found = session.scalar(
        select(HelpRequest)
        .where(or_(
            (HelpRequest.requester_id == user_id) & (HelpRequest.created_at > since),
            (HelpRequest.claimed_by == user_id) & (HelpRequest.claimed_at > since),
            (HelpRequest.resolved_by == user_id) & (HelpRequest.resolved_at > since),
        ))
        .order_by(HelpRequest.id.desc())
        .limit(1)
    )
    if found is None:
        return None
    if found.resolved_by == user_id and found.resolved_at and found.resolved_at > since:
        return found, "resolved"
    if found.claimed_by == user_id and found.claimed_at and found.claimed_at > since:
        return found, "claimed"
    return found, "asked"


def undo(*, session: Session, change: Change, now: datetime) -> None:
    """Reverse one change; CannotUndo (nothing changed) when that would clash with how things are now."""
    values = data(change)
    kind = change.kind
    if kind in IRREVERSIBLE:
        raise CannotUndo(kind)
    if kind == "partner.add":
        session.execute(delete(Partner).where(Partner.id == values["partner_id"]))
    elif kind == "partner.fields":
        if fields := _changed_only(session, change, values):
            session.execute(update(Partner).where(Partner.id == values["partner_id"]).values(**fields))
    elif kind == "interaction.add":
        session.execute(delete(Interaction).where(Interaction.id == values["interaction_id"]))
    elif kind == "kpi.set":
        _restore_kpi(session, values["key"], values["previous"], user_id=change.user_id, now=now)
    elif kind == "target.set":
        where = [getattr(KpiTarget, column) == value for column, value in values["key"].items()]
        if values["previous"] is None:
            session.execute(delete(KpiTarget).where(*where))
        else:
            session.execute(update(KpiTarget).where(*where).values(value=values["previous"]))
    elif kind == "step.done":
        session.execute(delete(OnboardingStep).where(OnboardingStep.partner_id == values["partner_id"], OnboardingStep.step == values["step"]))
        if fields := _changed_only(session, change, values):
            session.execute(update(Partner).where(Partner.id == values["partner_id"]).values(**fields))
    elif kind == "qbr.add":
        session.execute(delete(Qbr).where(Qbr.id == values["qbr_id"]))
    elif kind == "qbr.move":
        session.execute(update(Qbr).where(Qbr.id == values["qbr_id"]).values(scheduled_for=values["scheduled_for"]))
    elif kind == "qbr.cancel":
        _reopen_qbr(session, values["qbr_id"], cancelled_at=None)
    elif kind == "qbr.held":
        if values["created"]:
            session.execute(delete(Qbr).where(Qbr.id == values["qbr_id"]))
        else:
            _reopen_qbr(session, values["qbr_id"], held_on=None, notes=None)
    else:  # pragma: no cover - every recorded kind is handled above
        raise ValueError(kind)
    change.undone_at = now
    session.flush()


def _restore_kpi(session: Session, key: dict[str, Any], previous: Decimal | None, *, user_id: str, now: datetime) -> None:
    """Put a KPI value back (or remove it) through storage.kpis, as any write: the undo
    is kept in kpi_history, so the digest's change and the quarter "as known" at any
    instant see it."""
    if previous is None:
        kpis.delete_value(session=session, now=now, **key)
    else:
        kpis.set_kpi(session=session, value=previous, user_id=user_id, now=now, **key)


def _changed_only(session: Session, change: Change, values: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's values of the fields this change changed: undoing a stage change
    leaves a later rename by someone else alone. (A name comes back with its key.)"""
    changed = changed_fields(session=session, change=change)
    if "name" in changed or "name_key" in changed:
        changed |= {"name", "name_key"}
    return {f: v for f, v in values["fields"].items() if f in changed}


def _reopen_qbr(session: Session, qbr_id: int, **values: Any) -> None:
    """Make a QBR upcoming again, unless the partner has another upcoming one by now."""
    partner_id = session.scalar(select(Qbr.partner_id).where(Qbr.id == qbr_id))
    other = session.scalar(
        select(Qbr.scheduled_for).where(Qbr.partner_id == partner_id, Qbr.id != qbr_id, Qbr.held_on.is_(None), Qbr.cancelled_at.is_(None))
    )
    if other is not None:
        raise CannotUndo(f"the partner has another QBR scheduled by now ({other.isoformat()})")
    session.execute(update(Qbr).where(Qbr.id == qbr_id).values(**values))


# --- history ---------------------------------------------------------------------

def history_count(*, session: Session, partner_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Change).where(Change.partner_id == partner_id)) or 0


def history(*, session: Session, partner_id: int, offset: int, limit: int) -> list[Change]:
    """One page of a partner's changes, newest first."""
    return list(
        session.scalars(select(Change).where(Change.partner_id == partner_id).order_by(Change.id.desc()).offset(offset).limit(limit))
    )

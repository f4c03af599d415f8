"""The audit trail and `/partner undo`: each change stores how to reverse it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import Change, Interaction, KpiTarget, KpiValue, OnboardingStep, Partner, Qbr

UNDO_WINDOW = timedelta(minutes=10)
PARTNER_FIELDS = ("name", "name_key", "stage", "stage_changed_at", "owner_id", "archived_at", "slack_channel_id", "crm_id")


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


def record(*, session: Session, user_id: str, kind: str, summary: str, undo: dict[str, Any], now: datetime) -> None:
    payload = {k: ({f: _plain(v) for f, v in val.items()} if isinstance(val, dict) else _plain(val)) for k, val in undo.items()}
    session.add(Change(user_id=user_id, kind=kind, summary=summary, undo=json.dumps(payload), at=now))
    session.flush()


def partner_fields(partner: Partner) -> dict[str, Any]:
    return {f: getattr(partner, f) for f in PARTNER_FIELDS}


def last_change(*, session: Session, user_id: str, now: datetime) -> Change | None:
    return session.scalar(
        select(Change)
        .where(Change.user_id == user_id, Change.undone_at.is_(None), Change.at >= now - UNDO_WINDOW)
        .order_by(Change.id.desc())
        .limit(1)
    )


def undo(*, session: Session, change: Change, now: datetime) -> None:
    data = {k: ({f: _restore(v) for f, v in val.items()} if isinstance(val, dict) and not {"dt", "d", "dec"} & set(val) else _restore(val))
            for k, val in json.loads(change.undo).items()}
    kind = change.kind
    if kind == "partner.add":
        session.execute(delete(Partner).where(Partner.id == data["partner_id"]))
    elif kind == "partner.fields":
        session.execute(update(Partner).where(Partner.id == data["partner_id"]).values(**data["fields"]))
    elif kind == "interaction.add":
        session.execute(delete(Interaction).where(Interaction.id == data["interaction_id"]))
    elif kind in ("kpi.set", "target.set"):
        model = KpiValue if kind == "kpi.set" else KpiTarget
        key = data["key"]
        where = [getattr(model, column) == value for column, value in key.items()]
        if data["previous"] is None:
            session.execute(delete(model).where(*where))
        else:
            session.execute(update(model).where(*where).values(value=data["previous"]))
    elif kind == "step.done":
        session.execute(delete(OnboardingStep).where(OnboardingStep.partner_id == data["partner_id"], OnboardingStep.step == data["step"]))
        session.execute(update(Partner).where(Partner.id == data["partner_id"]).values(**data["fields"]))
    elif kind == "qbr.add":
        session.execute(delete(Qbr).where(Qbr.id == data["qbr_id"]))
    elif kind == "qbr.held":
        if data["created"]:
            session.execute(delete(Qbr).where(Qbr.id == data["qbr_id"]))
        else:
            session.execute(update(Qbr).where(Qbr.id == data["qbr_id"]).values(held_on=None, notes=None))
    else:  # pragma: no cover - every recorded kind is handled above
        raise ValueError(kind)
    change.undone_at = now
    session.flush()

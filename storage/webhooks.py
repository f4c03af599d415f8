"""The webhook outbox: events written in the same transaction as the change."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import health
from storage.models import Partner, WebhookOutbox

LEASE = timedelta(minutes=2)  # a delivery attempt in progress holds its row this long


def partner_data(p: Partner) -> dict[str, Any]:
    score = health.stored(p)
    return {"id": p.id, "name": p.name, "type": p.type, "tier": p.tier, "owner": p.owner_id,
            "health": {"score": score.score, "label": score.label, "reasons": score.reasons}}


def emit(*, session: Session, hooks: list, event: str, partner: Partner, subject: dict[str, Any], now: datetime) -> int:
    """Queue `event` for every subscriber that wants it; returns how many rows were written."""
    wanted = [h for h in hooks if h.wants(event)]
    if not wanted:
        return 0
    health.settle(session)  # the partner's health after this change (a stage change moves it)
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": event,
            "occurred_at": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": {"partner": partner_data(partner), **subject},
        },
        separators=(",", ":"),
        default=str,
    )
    event_id = json.loads(body)["id"]
    for hook in wanted:
        session.add(WebhookOutbox(event_id=event_id, event_type=event, url=hook.url, body=body, status="pending",
                                  attempts=0, next_attempt_at=now, created_at=now))
    session.flush()
    return len(wanted)


def due(*, session: Session, now: datetime, limit: int = 100) -> list[WebhookOutbox]:
    return list(
        session.scalars(
            select(WebhookOutbox)
            .where(WebhookOutbox.status == "pending", WebhookOutbox.next_attempt_at <= now)
            .order_by(WebhookOutbox.id)
            .limit(limit)
        )
    )


def lease(*, session: Session, row: WebhookOutbox, now: datetime) -> bool:
    """Take a row for one attempt; another process that read it too loses."""
    result = session.execute(
        update(WebhookOutbox)
        .where(WebhookOutbox.id == row.id, WebhookOutbox.status == "pending", WebhookOutbox.next_attempt_at == row.next_attempt_at)
        .values(next_attempt_at=now + LEASE, attempts=WebhookOutbox.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def settle(*, session: Session, row_id: int, status: str, error: str | None, next_attempt_at: datetime | None, now: datetime) -> None:
    values: dict[str, Any] = {"status": status, "last_error": (error or "")[:200] or None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if status == "delivered":
        values["delivered_at"] = now
    session.execute(update(WebhookOutbox).where(WebhookOutbox.id == row_id).values(**values))


def counts(*, session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return dict(session.execute(select(WebhookOutbox.status, func.count()).group_by(WebhookOutbox.status)).all())


def request_data(r) -> dict[str, Any]:
    return {"request": {"id": r.id, "team": r.team, "text": r.text, "requester": r.requester_id, "status": r.status,
                        "claimer": r.claimed_by, "resolver": r.resolved_by}}


def deal_data(d, conflict_with: Partner | None = None) -> dict[str, Any]:
    return {"deal": {"id": d.id, "customer": d.customer, "amount": str(d.amount), "status": d.status,
                     "conflict_with": partner_data(conflict_with) if conflict_with is not None else None}}

"""Onboarding checklists: the steps by partner type, which are done, and partners whose checklist stalled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import OnboardingStep, Partner

# Onboarding checklists by partner type: (key, label).
STEPS: dict[str, list[tuple[str, str]]] = {
    "channel": [
        ("agreement", "Agreement signed"),
        ("portal", "Portal access"),
        ("training", "Sales training"),
        ("first-deal", "First deal registered"),
    ],
    "alliance": [
        ("agreement", "Agreement signed"),
        ("sponsor", "Executive sponsor named"),
        ("joint-plan", "Joint plan agreed"),
        ("co-marketing", "Co-marketing launched"),
    ],
    "technology": [
        ("agreement", "Agreement signed"),
        ("sandbox", "Sandbox access"),
        ("integration", "Integration built"),
        ("certified", "Integration certified"),
        ("marketplace", "Listed in marketplace"),
    ],
}


def steps_done(*, session: Session, partner_id: int) -> dict[str, OnboardingStep]:
    return {s.step: s for s in session.scalars(select(OnboardingStep).where(OnboardingStep.partner_id == partner_id))}


def mark_step(*, session: Session, partner: Partner, step: str, user_id: str, now: datetime) -> bool:
    """Mark a step done; False if it already was."""
    if session.scalar(select(OnboardingStep.id).where(OnboardingStep.partner_id == partner.id, OnboardingStep.step == step)):
        return False
    session.add(OnboardingStep(partner_id=partner.id, step=step, done_by=user_id, done_at=now))
    partner.onboarding_changed_at = now
    session.flush()
    return True


def unmark_step(*, session: Session, partner: Partner, step: str, now: datetime) -> bool:
    result = session.execute(delete(OnboardingStep).where(OnboardingStep.partner_id == partner.id, OnboardingStep.step == step))
    if result.rowcount:
        partner.onboarding_changed_at = now
        session.flush()
    return bool(result.rowcount)


def last_change():
    return func.coalesce(Partner.onboarding_changed_at, Partner.created_at)


def stalled_where(since: datetime, owner_id: str | None) -> list:
    return [Partner.stage == "onboarding", last_change() <= since, Partner.archived_at.is_(None),
            *([Partner.owner_id == owner_id] if owner_id else [])]


def count_stalled(*, session: Session, now: datetime, stall_days: int) -> int:
    """How many partners `stalled_rows` lists, counted by the database (the digest shows only the number)."""
    return session.scalar(select(func.count()).select_from(Partner).where(*stalled_where(now - timedelta(days=stall_days), None))) or 0


def stalled_onboarding(*, session: Session, since: datetime, owner_id: str | None = None) -> list[tuple[Partner, set[str]]]:
    """Partners in onboarding whose checklist has not moved since `since`, with their done steps (one statement)."""
    query = (
        select(Partner, OnboardingStep.step)
        .outerjoin(OnboardingStep, OnboardingStep.partner_id == Partner.id)
        .where(*stalled_where(since, owner_id))
        .order_by(last_change(), Partner.name_key, Partner.id)
    )
    found: dict[int, tuple[Partner, set[str]]] = {}
    for partner, step in session.execute(query):
        entry = found.setdefault(partner.id, (partner, set()))
        if step:
            entry[1].add(step)
    return list(found.values())


def stalled_rows(*, session: Session, now: datetime, stall_days: int, owner_id: str | None = None) -> list[tuple[Partner, str | None, int]]:
    """(partner, the step it is stuck on, days since its checklist last moved)."""
    out = []
    for partner, done in stalled_onboarding(session=session, since=now - timedelta(days=stall_days), owner_id=owner_id):
        step = next((label for key, label in STEPS.get(partner.type, []) if key not in done), None)
        out.append((partner, step, (now - (partner.onboarding_changed_at or partner.created_at)).days))
    return out

"""Logged interactions beyond adding one (storage.partners.add_interaction): follow-ups due, modal re-deliveries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Interaction, Partner


def follow_ups(*, session: Session, start: date, end: date) -> list[tuple[Interaction, Partner]]:
    """Interactions whose follow-up date falls in [start, end], with their partner."""
    return [
        (interaction, partner)
        for interaction, partner in session.execute(
            select(Interaction, Partner)
            .join(Partner, Partner.id == Interaction.partner_id)
            .where(Interaction.follow_up_on >= start, Interaction.follow_up_on <= end, Partner.archived_at.is_(None))
            .order_by(Interaction.follow_up_on, Interaction.id)
        )
    ]


def logged_with_key(*, session: Session, dedupe_key: str) -> bool:
    """Whether an interaction was already stored under this de-duplication key (a form Slack sent twice)."""
    return session.scalar(select(Interaction.id).where(Interaction.dedupe_key == dedupe_key)) is not None

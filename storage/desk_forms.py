"""Forms opened from a partner desk: a submission does not say which channel it came
from, so the channel and partner decided when the form was opened are kept here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import DeskForm

# A form left open longer than this is not accepted (Slack closes views long before).
FORM_LIFETIME = timedelta(hours=24)


def remember(*, session: Session, view_id: str, kind: str, partner_id: int, channel_id: str, user_id: str,
             team_id: str | None, now: datetime) -> None:
    session.execute(delete(DeskForm).where(DeskForm.created_at < now - FORM_LIFETIME))
    session.add(DeskForm(view_id=view_id, kind=kind, partner_id=partner_id, channel_id=channel_id, user_id=user_id,
                         team_id=team_id, created_at=now))
    session.flush()


def opened(*, session: Session, view_id: str, kind: str, user_id: str, now: datetime) -> DeskForm | None:
    """The desk form this person opened, within FORM_LIFETIME (None for anyone else's,
    another kind of form, or one left open too long)."""
    if not view_id:
        return None
    form = session.get(DeskForm, view_id)
    if form is None or form.kind != kind or form.user_id != user_id or form.created_at < now - FORM_LIFETIME:
        return None
    return form

"""App Home: the owner's dashboard (portfolio, QBRs coming up, stalled onboarding),
cached under a stamp of the owner's partners' versions like a card (storage/versions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.settings import Settings
from storage import home, versions
from views.partners import home_view


def page(session: Session, *, user_id: str, now: datetime, settings: Settings) -> dict[str, Any]:
    key = ("home", user_id, versions.stamp(session=session, owner_id=user_id), settings.timezone, settings.stall_days)
    return versions.rendered(key, lambda: _view(session, user_id=user_id, now=now, settings=settings))


def _view(session: Session, *, user_id: str, now: datetime, settings: Settings) -> dict[str, Any]:
    mine = home.for_user(session=session, user_id=user_id, now=now, zone=settings.zone, stall_days=settings.stall_days)
    return home_view(mine.portfolio, user_id=user_id, now=now, upcoming=mine.upcoming, stalled=mine.stalled)

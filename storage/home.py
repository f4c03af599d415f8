"""What a person's App Home shows, read in one place: their partners with stored
health (worst first), their QBRs in the next 30 days, their stalled onboarding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage import health, onboarding, partners, qbrs
from storage.health import Health
from storage.models import Partner, Qbr
from storage.periods import local_today

UPCOMING_DAYS = 30


@dataclass(frozen=True)
class Home:
    portfolio: list[tuple[Partner, datetime | None, Health]]
    upcoming: list[tuple[Qbr, Partner]]
    stalled: list[tuple[Partner, str | None, int]]


def portfolio(*, session: Session, owner_id: str) -> list[tuple[Partner, datetime | None, Health]]:
    """The owner's partners with their last touch and stored health, worst first."""
    health.settle(session)
    return [(r.partner, r.last_touch, health.stored(r.partner)) for r in partners.rows(session=session, owner_id=owner_id, by_health=True)]


def for_user(*, session: Session, user_id: str, now: datetime, zone: ZoneInfo, stall_days: int) -> Home:
    today = local_today(now, zone)
    return Home(
        portfolio=portfolio(session=session, owner_id=user_id),
        upcoming=qbrs.upcoming_qbrs(session=session, start=today, end=today + timedelta(days=UPCOMING_DAYS), owner_id=user_id),
        stalled=onboarding.stalled_rows(session=session, now=now, stall_days=stall_days, owner_id=user_id),
    )

"""What a job produces: notifications, each with a ledger key (job, subject, period)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.messenger import Notification  # noqa: F401  (what a job produces)
from core.settings import Settings


@dataclass
class JobContext:
    session: Session
    settings: Settings
    now: datetime  # the as-of time (UTC, aware)
    user_tz: Any  # Callable[[str], ZoneInfo]: the owner's Slack time zone, team zone as fallback
    warnings: list[str] = field(default_factory=list)


@dataclass
class JobResult:
    job: str
    as_of: datetime
    considered: int = 0
    sent: int = 0
    skipped: int = 0  # already in the ledger (sent by an earlier run or another replica)
    failed: int = 0
    detail: str = ""

    def line(self, duration: float) -> str:
        return (
            f"job={self.job} as_of={self.as_of.isoformat()} considered={self.considered} sent={self.sent} "
            f"skipped_already_sent={self.skipped} failed={self.failed} duration_ms={duration * 1000:.0f}"
            + (f" detail={self.detail!r}" if self.detail else "")
        )

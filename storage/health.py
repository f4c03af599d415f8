"""Partner health: a 0–100 score with the reasons a partner manager would act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.models import Stage

QUIET_DAYS = 30
SILENT_DAYS = 60


@dataclass(frozen=True)
class Health:
    score: int
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.score >= 70:
            return "healthy"
        if self.score >= 40:
            return "needs attention"
        return "at risk"


def assess(*, stage: str, created_at: datetime, last_touch: datetime | None, now: datetime) -> Health:
    score = 100
    reasons: list[str] = []
    if stage == Stage.CHURNED:
        return Health(0, ["churned"])
    if stage == Stage.AT_RISK:
        score -= 40
        reasons.append("marked at-risk")
    since = last_touch or created_at
    days = (now - since).days
    if days >= SILENT_DAYS:
        score -= 40
        reasons.append(f"no touch in {days} days" if last_touch else f"never contacted ({days} days)")
    elif days >= QUIET_DAYS:
        score -= 20
        reasons.append(f"no touch in {days} days" if last_touch else f"never contacted ({days} days)")
    if not reasons:
        reasons.append("recently in touch")
    return Health(max(score, 0), reasons)

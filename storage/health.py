"""Partner health: one documented function, 0–100, with the reasons to act on.

Start at 100 and subtract:
- stage: at-risk −30; churned scores 0 outright;
- recency of interactions: no touch in 30+ days −15, in 60+ days −30;
- KPI attainment this quarter (metrics with a target, prorated by how much
  of the quarter has passed): below 50 % of pace −20, below 80 % −10 (the
  worst metric counts);
- QBR cadence: no QBR held within `qbr_interval_days` (and the partner is older
  than that) −15;
- onboarding: in onboarding with no checklist progress for `stall_days` −15;
- open deal conflicts: −10.
70+ is healthy, 40–69 needs attention, below 40 is at risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from storage.models import Stage

QUIET_DAYS, QUIET_PENALTY = 30, 15
SILENT_DAYS, SILENT_PENALTY = 60, 30
AT_RISK_PENALTY = 30
BEHIND_PACE, BEHIND_PENALTY = 0.8, 10
FAR_BEHIND_PACE, FAR_BEHIND_PENALTY = 0.5, 20
QBR_OVERDUE_PENALTY = 15
STALLED_PENALTY = 15
CONFLICT_PENALTY = 10


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


@dataclass(frozen=True)
class Signals:
    """What health is computed from; fields left None are not judged."""

    stage: str
    created_at: datetime
    last_touch: datetime | None
    # (metric, actual, target) for metrics with a target this quarter
    attainment: list[tuple[str, float, float]] | None = None
    quarter_elapsed: float = 1.0  # share of the quarter passed, 0–1
    last_qbr: date | None = None
    onboarding_since: datetime | None = None  # last checklist change (or creation)
    open_conflicts: int = 0


def assess(signals: Signals, *, now: datetime, qbr_interval_days: int = 90, stall_days: int = 14) -> Health:
    s = signals
    if s.stage == Stage.CHURNED:
        return Health(0, ["churned"])
    penalties: list[tuple[int, str]] = []
    if s.stage == Stage.AT_RISK:
        penalties.append((AT_RISK_PENALTY, "marked at-risk"))
    days = (now - (s.last_touch or s.created_at)).days
    never = s.last_touch is None
    if days >= SILENT_DAYS or days >= QUIET_DAYS:
        penalty = SILENT_PENALTY if days >= SILENT_DAYS else QUIET_PENALTY
        penalties.append((penalty, f"never contacted in {days} days" if never else f"no interaction in {days} days"))
    if s.attainment:
        pace = max(s.quarter_elapsed, 0.1)
        metric, actual, target = min(s.attainment, key=lambda a: a[1] / a[2] if a[2] else 1)
        ratio = actual / target if target else 1
        if ratio / pace < FAR_BEHIND_PACE:
            penalties.append((FAR_BEHIND_PENALTY, f"{metric} at {ratio:.0%} of target"))
        elif ratio / pace < BEHIND_PACE:
            penalties.append((BEHIND_PENALTY, f"{metric} at {ratio:.0%} of target"))
    if (now - s.created_at).days > qbr_interval_days and s.stage in (Stage.ACTIVE, Stage.AT_RISK):
        if s.last_qbr is None:
            penalties.append((QBR_OVERDUE_PENALTY, "no QBR held yet"))
        elif (now.date() - s.last_qbr).days > qbr_interval_days:
            penalties.append((QBR_OVERDUE_PENALTY, f"last QBR {(now.date() - s.last_qbr).days} days ago"))
    if s.stage == Stage.ONBOARDING:
        since = s.onboarding_since or s.created_at
        stalled = (now - since).days
        if stalled >= stall_days:
            penalties.append((STALLED_PENALTY, f"onboarding stalled for {stalled} days"))
    if s.open_conflicts:
        penalties.append((CONFLICT_PENALTY, f"{s.open_conflicts} deal conflict{'s' if s.open_conflicts > 1 else ''} open"))
    penalties.sort(key=lambda p: -p[0])
    score = max(100 - sum(p for p, _ in penalties), 0)
    return Health(score, [r for _, r in penalties] or ["in good shape"])


def basic(stage: str, created_at: datetime, last_touch: datetime | None, *, now: datetime, **kwargs) -> Health:
    """Health from the signals a list row carries."""
    return assess(Signals(stage=stage, created_at=created_at, last_touch=last_touch, **kwargs), now=now)

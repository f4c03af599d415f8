"""Partner health, the rule: one pure function and one "at risk" rule.

`assess()` scores a partner 0–100 from all its signals. Start at 100 and subtract:
- stage: at-risk −30; churned scores 0 outright;
- recency of interactions: no touch in 30+ days −15, in 60+ days −30; a touch is a
  logged interaction or a message from the partner's own people in its channel,
  whichever is later;
- KPI pace this quarter (metrics with a target, judged by storage.kpis.judge):
  50 points × (share of the target's time passed − share of the target
  reached), when that is 5 points or more; the worst metric counts. The
  target's time is the quarter, or only its months that have month targets;
  adoption is a level: 50 × (1 − share reached), not prorated. At 4 % of target at the end of the quarter
  that is −48 ("revenue at 4% of target, 96% behind pace"); at 25 % half-way
  through it is −12;
- QBR cadence: no QBR held within `qbr_interval_days` (active or at-risk
  partners older than that) −15;
- onboarding: in onboarding with no checklist progress for `stall_days` −15;
- open deal conflicts (flagged, or a partner's submission under review that clashes
  with another partner's registration): −10.

The label, and every count of "at risk": at risk when the stage is `at-risk`
or the score is below 40; 40–69 needs attention; 70+ healthy.

The stored score and its upkeep are in storage/health.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_

from storage.models import Partner, Stage
from storage.periods import local_today, month_bounds, month_of, quarter_months, quarter_of

QUIET_DAYS, QUIET_PENALTY = 30, 15
SILENT_DAYS, SILENT_PENALTY = 60, 30
AT_RISK_PENALTY = 30
KPI_MAX_PENALTY = 50  # points for being a whole quarter behind pace
KPI_MIN_PENALTY = 5  # smaller shortfalls are noise (a deal booked a few days late)
QBR_OVERDUE_PENALTY = 15
STALLED_PENALTY = 15
CONFLICT_PENALTY = 10
AT_RISK_BELOW = 40
HEALTHY_FROM = 70


def label_for(score: int | None, stage: str) -> str:
    """The one rule: at risk when the stage says so or the score is below 40."""
    if stage == Stage.AT_RISK or (score is not None and score < AT_RISK_BELOW):
        return "at risk"
    if score is None:
        return "not scored yet"
    return "healthy" if score >= HEALTHY_FROM else "needs attention"


def at_risk_clause():
    """`label_for(...) == "at risk"` as SQL, over the stored score (tests check they agree)."""
    return or_(Partner.stage == Stage.AT_RISK.value, Partner.health_score < AT_RISK_BELOW)


@dataclass(frozen=True)
class Health:
    score: int | None
    reasons: list[str] = field(default_factory=list)
    stage: str = ""

    @property
    def label(self) -> str:
        return label_for(self.score, self.stage)

    @property
    def sort_key(self) -> int:
        """Worst first; a partner not scored yet goes last."""
        return 101 if self.score is None else self.score


@dataclass(frozen=True)
class Signals:
    """What health is computed from; fields left None are not judged."""

    stage: str
    created_at: datetime
    last_touch: datetime | None
    # (metric, actual, target[, elapsed]) for metrics with a target this quarter; elapsed is
    # the share of the target's months passed (default: quarter_elapsed), None for a level
    attainment: list[tuple] | None = None
    quarter_elapsed: float = 1.0  # share of the quarter passed, 0–1
    last_qbr: date | None = None
    onboarding_since: datetime | None = None  # last checklist change (or creation)
    open_conflicts: int = 0
    partner_active: datetime | None = None  # the partner's last message in its channel

    @property
    def touched(self) -> datetime | None:
        """The later of the last logged interaction and the partner's last message in its channel."""
        return max((t for t in (self.last_touch, self.partner_active) if t is not None), default=None)


def kpi_penalty(metric: str, ratio: float, elapsed: float | None) -> tuple[int, str] | None:
    """Continuous in the shortfall: 50 × (share of the target's time passed − share of target
    reached); a level (elapsed None: adoption) is judged as it stands, 50 × (1 − share)."""
    if elapsed is None:
        penalty = round(KPI_MAX_PENALTY * (1 - ratio))
        return (penalty, f"{metric} at {ratio:.0%} of target") if penalty >= KPI_MIN_PENALTY else None
    elapsed = min(max(elapsed, 0.0), 1.0)
    penalty = round(KPI_MAX_PENALTY * (elapsed - ratio))
    if penalty < KPI_MIN_PENALTY:
        return None
    behind = 1 - ratio / elapsed
    return penalty, f"{metric} at {ratio:.0%} of target, {behind:.0%} behind pace"


def assess(signals: Signals, *, now: datetime, qbr_interval_days: int = 90, stall_days: int = 14) -> Health:
    s = signals
    if s.stage == Stage.CHURNED:
        return Health(0, ["churned"], s.stage)
    penalties: list[tuple[int, str]] = []
    if s.stage == Stage.AT_RISK:
        penalties.append((AT_RISK_PENALTY, "marked at-risk"))
    touched = s.touched
    days = (now - (touched or s.created_at)).days
    never = touched is None
    if days >= QUIET_DAYS:
        penalty = SILENT_PENALTY if days >= SILENT_DAYS else QUIET_PENALTY
        penalties.append((penalty, f"never contacted in {days} days" if never else f"no interaction in {days} days"))
    kpi = [
        found
        for metric, actual, target, *elapsed in (s.attainment or [])
        if target and (found := kpi_penalty(metric, actual / target, elapsed[0] if elapsed else s.quarter_elapsed))
    ]
    if kpi:
        penalties.append(max(kpi, key=lambda p: p[0]))
    if (now - s.created_at).days > qbr_interval_days and s.stage in (Stage.ACTIVE, Stage.AT_RISK):
        if s.last_qbr is None:
            penalties.append((QBR_OVERDUE_PENALTY, "no QBR held yet"))
        elif (now.date() - s.last_qbr).days > qbr_interval_days:
            penalties.append((QBR_OVERDUE_PENALTY, f"last QBR {(now.date() - s.last_qbr).days} days ago"))
    if s.stage == Stage.ONBOARDING:
        stalled = (now - (s.onboarding_since or s.created_at)).days
        if stalled >= stall_days:
            penalties.append((STALLED_PENALTY, f"onboarding stalled for {stalled} days"))
    if s.open_conflicts:
        penalties.append((CONFLICT_PENALTY, f"{s.open_conflicts} deal conflict{'s' if s.open_conflicts > 1 else ''} open"))
    penalties.sort(key=lambda p: -p[0])
    score = max(100 - sum(p for p, _ in penalties), 0)
    return Health(score, [r for _, r in penalties] or ["in good shape"], s.stage)


def quarter_progress(now: datetime, zone: ZoneInfo, fiscal_start: int) -> tuple[str, list[str], float]:
    """This fiscal quarter, its months, and the share of it that has passed."""
    quarter = quarter_of(month_of(local_today(now, zone)), fiscal_start=fiscal_start)
    months = quarter_months(quarter, fiscal_start=fiscal_start)
    start, _ = month_bounds(months[0], zone)
    _, end = month_bounds(months[-1], zone)
    return quarter, months, (now - start) / (end - start)

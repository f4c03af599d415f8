"""`health-refresh` (hourly at :50): recompute every partner's stored health as of
now. Writes keep the score current as they happen (storage/health.py); time
alone changes it too — 30 days without an interaction, the quarter's pace, an
overdue QBR, a stalled checklist — and this job catches that up, set-based (a
fixed number of statements whatever the partner count), writing only the
scores that changed. It runs just before the digest's hour, so the Monday
digest reads fresh scores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.settings import Settings
from jobs.base import JobResult
from storage import health
from storage.db import unit_of_work
from storage.models import Partner

JOB_ID = "health-refresh"


def run(*, settings: Settings, slack=None, now: datetime, result: JobResult, dry_run: bool = False) -> int:
    """Returns how many stored scores changed (or would change, with `dry_run`)."""
    with unit_of_work() as session:
        health.as_of(session, now)
        changed = health.refresh(session=session, now=now, rules=health.Rules.of(settings), dry_run=dry_run)
        result.considered = session.scalar(select(func.count()).select_from(Partner)) or 0
    result.detail = f"{changed} score(s) {'would change' if dry_run else 'changed'}"
    return changed

"""APScheduler 3 wiring. Exactly-once comes from the database ledger, not the
scheduler: APScheduler's job stores cannot be shared between processes, and its
in-memory store forgets runs missed while the bot was down — so start-up runs
once any job whose latest scheduled time in the past 24 hours has no finished run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from core.settings import Settings
from jobs.runner import JobSpec, run_job, specs
from storage import ledger
from storage.db import unit_of_work

log = logging.getLogger("partnerbot.scheduler")
CATCH_UP_WINDOW = timedelta(hours=24)


def trigger(job: JobSpec, settings: Settings) -> CronTrigger:
    return CronTrigger(timezone=settings.zone, **job.cron)


def latest_fire_time(cron: CronTrigger, *, since: datetime, now: datetime) -> datetime | None:
    latest, cursor = None, cron.get_next_fire_time(None, since)
    while cursor is not None and cursor <= now:
        latest = cursor.astimezone(timezone.utc)
        # Step in UTC: wall-clock arithmetic on a zoned time loses `fold` in the repeated DST hour.
        cursor = cron.get_next_fire_time(cursor, cursor.astimezone(timezone.utc) + timedelta(seconds=1))
    return latest


def _run(name: str, settings: Settings, slack, now: datetime | None = None) -> None:
    try:
        run_job(name, settings=settings, slack=slack, now=now)
    except Exception:  # one job's failure must not stop the scheduler; logged with its cause
        log.exception("job=%s failed", name)


def build(settings: Settings, slack, *, blocking: bool = False) -> BaseScheduler:
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone=settings.zone)
    for job in specs(settings):
        scheduler.add_job(
            _run, trigger(job, settings), args=[job.name, settings, slack], id=job.name, name=job.name,
            replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=job.misfire_grace_time,
        )
    return scheduler


def catch_up(settings: Settings, slack, *, now: datetime | None = None) -> list[str]:
    """Run once each job that missed its latest scheduled time while the bot was down."""
    now = now or datetime.now(timezone.utc)
    ran = []
    for job in specs(settings):
        latest = latest_fire_time(trigger(job, settings), since=now - CATCH_UP_WINDOW, now=now)
        if latest is None:
            continue
        with unit_of_work() as session:
            done = ledger.finished_since(session=session, job=job.name, since=latest)
        if not done:
            log.info("job=%s missed its run at %s; running it now", job.name, latest.isoformat())
            _run(job.name, settings, slack, now)
            ran.append(job.name)
    return ran


def next_runs(settings: Settings, *, now: datetime | None = None) -> list[tuple[JobSpec, datetime | None]]:
    now = now or datetime.now(timezone.utc)
    return [(job, trigger(job, settings).get_next_fire_time(None, now)) for job in specs(settings)]

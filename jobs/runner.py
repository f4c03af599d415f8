"""The job registry and the one way a job runs: record the run, collect its
notifications, deliver them effectively-once, log one structured line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TextIO

from views.text import plural
from core import jobnames
from core.settings import Settings
from jobs import health_refresh, kpi_digest, qbr_reminders, request_escalations, retry, stalled_onboarding, webhook_delivery
from jobs.crm import sync as crm_sync
from jobs.base import JobContext, JobResult, Notification
from jobs.delivery import Sender, deliver, retry as retry_failed
from storage import health, ledger
from storage.db import unit_of_work

log = logging.getLogger("partnerbot.jobs")
WEEKDAY = {"mon": "mon", "tue": "tue", "wed": "wed", "thu": "thu", "fri": "fri", "sat": "sat", "sun": "sun"}


@dataclass(frozen=True)
class JobSpec:
    name: str
    # Either notifications to deliver effectively-once, or an action that does its own work.
    collect: Callable[[JobContext], list[Notification]] | None
    cron: dict[str, Any]  # CronTrigger fields, in PARTNERBOT_TIMEZONE
    schedule: str  # for people
    misfire_grace_time: int  # seconds a late run may still start
    action: Callable[..., None] | None = None


def _retry(*, settings: Settings, slack, now: datetime, result: JobResult) -> None:
    retry_failed(sender=Sender(slack), result=result, now=now)


def _webhooks(*, settings: Settings, slack, now: datetime, result: JobResult) -> None:
    webhook_delivery.deliver_due(settings=settings, now=now, result=result)


def _crm(*, settings: Settings, slack, now: datetime, result: JobResult) -> None:
    report = crm_sync.sync(settings=settings, now=now)
    result.considered, result.sent = report.deals_seen, report.values_written
    result.detail = report.summary()


def specs(settings: Settings) -> list[JobSpec]:
    """The scheduled jobs, named and ordered by core/jobnames.py (which `/partner jobs` reads too)."""
    day, clock = settings.digest_schedule.split()
    hour, minute = (int(x) for x in clock.split(":"))
    every = [
        JobSpec(qbr_reminders.JOB_ID, qbr_reminders.collect, {"minute": 0}, "hourly at :00", 3300),
        JobSpec(stalled_onboarding.JOB_ID, stalled_onboarding.collect, {"minute": 0}, "hourly at :00", 3300),
        JobSpec(request_escalations.JOB_ID, request_escalations.collect, {"minute": 5}, "hourly at :05", 3300),
        JobSpec(kpi_digest.JOB_ID, kpi_digest.collect, {"day_of_week": WEEKDAY[day], "hour": hour, "minute": minute},
                f"weekly, {settings.digest_schedule}", 86_400),
        JobSpec(retry.JOB_ID, None, {"minute": "*/15"}, "every 15 minutes", 600, action=_retry),
        JobSpec(health_refresh.JOB_ID, None, {"minute": 50}, "hourly at :50", 3000, action=health_refresh.run),
        JobSpec(webhook_delivery.JOB_ID, None, {"minute": "*"}, "every minute", 50, action=_webhooks),
        JobSpec(crm_sync.JOB_ID, None, {"hour": 6, "minute": 0}, "daily at 06:00", 6 * 3600, action=_crm),
    ]
    by_name = {job.name: job for job in every}
    assert set(by_name) == {*jobnames.ALWAYS, *jobnames.OPTIONAL}, "core/jobnames.py names every job once"
    return [by_name[name] for name in jobnames.scheduled(settings)]


def spec(settings: Settings, name: str) -> JobSpec:
    for candidate in specs(settings):
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def collect(job: JobSpec, *, settings: Settings, now: datetime, user_tz: Callable[[str], Any]) -> tuple[list[Notification], list[str]]:
    assert job.collect is not None
    # Read-only: collecting asks Slack for time zones, and must not hold the write lock meanwhile.
    with unit_of_work(read_only=True) as session:
        ctx = JobContext(session=session, settings=settings, now=now, user_tz=user_tz)
        return job.collect(ctx), ctx.warnings


def run_job(name: str, *, settings: Settings, slack, now: datetime | None = None) -> JobResult:
    """Run one job as of `now`, sending through `slack` (a bot.slack.JobSlack)."""
    job = spec(settings, name)
    now = now or datetime.now(timezone.utc)
    health.configure(settings)  # writes a job makes rescore partners by these settings
    started = time.perf_counter()
    result = JobResult(job=name, as_of=now)
    with unit_of_work() as session:
        run_id = ledger.start_run(session=session, job=name, as_of=now, now=datetime.now(timezone.utc))
    outcome = "failed"
    try:
        if job.action is not None:
            job.action(settings=settings, slack=slack, now=now, result=result)
        else:
            sender = Sender(slack)
            notifications, warnings = collect(job, settings=settings, now=now, user_tz=slack.user_tz)
            for warning in warnings:
                log.warning("job=%s %s", name, warning)
            result.detail = "; ".join(warnings)
            result.considered = len(notifications)
            deliver(notifications, sender=sender, result=result, now=now)
        outcome = "ok" if not result.failed else "partial"
    finally:
        with unit_of_work() as session:
            ledger.finish_run(session=session, run_id=run_id, outcome=outcome, considered=result.considered, sent=result.sent,
                              skipped=result.skipped, failed=result.failed, detail=result.detail, now=datetime.now(timezone.utc))
        log.info(result.line(time.perf_counter() - started) + f" outcome={outcome}")
    return result


def dry_run(name: str, *, settings: Settings, now: datetime, out: TextIO, user_tz: Callable[[str], Any] | None = None,
            names: dict[str, str] | None = None) -> int:
    """Print what the job would send; touches neither Slack nor the ledger. `names`
    (Slack ID → name: the demo's people and channels) shows mentions by name."""
    from views.terminal import render

    job = spec(settings, name)
    if job.name == crm_sync.JOB_ID:
        report = crm_sync.sync(settings=settings, now=now, dry_run=True)
        print(report.render(), file=out)
        return report.values_written
    if job.name == webhook_delivery.JOB_ID:
        from storage import webhooks

        with unit_of_work() as session:
            due = webhooks.due(session=session, now=now)
        print(f"{name} as of {now.isoformat()}: {plural(len(due), 'event')} due", file=out)
        for row in due:
            print(f"  {row.event_type} → {row.url} (attempt {row.attempts + 1})", file=out)
        return len(due)
    if job.name == health_refresh.JOB_ID:
        result = JobResult(job=name, as_of=now)
        changed = health_refresh.run(settings=settings, now=now, result=result, dry_run=True)
        print(f"{name} as of {now.isoformat()}: {changed} of {result.considered} stored health score(s) would change "
              "(dry run: nothing written)", file=out)
        return changed
    if job.collect is None:
        with unit_of_work() as session:
            rows = ledger.retryable(session=session, now=now)
        print(f"{name} as of {now.isoformat()}: {plural(len(rows), 'notification')} would be retried", file=out)
        for row in rows:
            print(f"  {row.job} {row.subject} {row.period} → {row.target} ({row.status}, {row.error or 'crashed'})", file=out)
        return len(rows)
    notifications, warnings = collect(job, settings=settings, now=now, user_tz=user_tz or (lambda _user: settings.zone))
    print(f"{name} as of {now.isoformat()}: {plural(len(notifications), 'message')} (dry run: nothing sent or recorded)", file=out)
    for warning in warnings:
        print(f"  warning: {warning}", file=out)
    for n in notifications:
        shown = (names or {}).get(n.target, n.target)
        where = f"DM to @{shown}" if n.target.startswith(("U", "W")) else f"#{shown}"
        thread = " (in thread)" if n.thread_ts or n.thread_of else ""
        print(f"\n→ {where}{thread} [{n.subject} · {n.period}]", file=out)
        body = f"[file {n.file[0]}: {n.file[1]}, {len(n.file[2]):,} bytes]" if n.file else render(n.blocks, n.text, names=names)
        print("  " + body.replace("\n", "\n  "), file=out)
    return len(notifications)

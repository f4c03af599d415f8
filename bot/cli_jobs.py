"""`partnerbot jobs list|run` and `sync crm`: scheduled work run by hand."""

from __future__ import annotations

import argparse
import logging
import sys

from core.redact import setup_logging
from core.settings import Settings, SettingsError
from bot.cli_common import CommandError, open_demo, prepare, require
from bot.cli_serve import job_slack


def cmd_jobs_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.scheduler import next_runs

    print(f"{'job':<22}{'schedule':<28}next run ({settings.timezone})")
    for job, when in next_runs(settings):
        print(f"{job.name:<22}{job.schedule:<28}{when.astimezone(settings.zone):%Y-%m-%d %H:%M %Z}" if when else "")
    return 0


def cmd_jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import datetime, timezone

    from jobs.runner import dry_run, run_job, spec

    try:
        spec(settings, args.name)
    except KeyError:
        from jobs.runner import specs

        raise CommandError(f"no job {args.name!r}; jobs: {', '.join(j.name for j in specs(settings))}") from None
    if args.at:
        try:
            now = datetime.fromisoformat(args.at)
        except ValueError:
            raise CommandError(f"--at {args.at!r} is not ISO-8601, e.g. 2026-11-30T09:00 or 2026-11-30T09:00+01:00") from None
        now = (now if now.tzinfo else now.replace(tzinfo=settings.zone)).astimezone(timezone.utc)
    else:
        now = datetime.now(timezone.utc)
    if getattr(args, "demo", False):  # offline: the demo workspace, and only ever a dry run
        settings = open_demo(settings)
    else:
        prepare(settings)
    if args.dry_run or getattr(args, "demo", False):
        dry_run(args.name, settings=settings, now=now, out=sys.stdout, names=demo_names() if getattr(args, "demo", False) else None)
        return 0
    require(settings, "slack_bot_token")
    setup_logging(settings)
    result = run_job(args.name, settings=settings, slack=job_slack(settings), now=now)
    print(f"{args.name}: sent {result.sent}, already sent {result.skipped}, failed {result.failed}")
    return 1 if result.failed else 0


def demo_names() -> dict[str, str]:
    """The demo workspace's people and channels by Slack ID, as the console shows them."""
    from storage import demo

    return {uid: name for name, uid in {**demo.DEMO_PEOPLE, **demo.DEMO_CHANNELS}.items()}


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from core import outbound
    from jobs.crm import sync as crm_sync

    if not settings.crm:
        raise SettingsError("setting PARTNERBOT_CRM: set it to hubspot or json to sync KPIs from a CRM")
    outbound.validate(settings, webhooks=False)
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            raise CommandError(f"--since {args.since!r} is not a date like 2026-01-01") from None
    prepare(settings)
    setup_logging(settings, logging.WARNING)
    try:
        report = crm_sync.sync(settings=settings, dry_run=args.dry_run, overwrite=args.overwrite, since=since)
    except crm_sync.SyncError as error:
        raise CommandError(f"CRM sync failed, nothing was written: {error}") from None
    print(report.render())
    return 0

"""`/partner jobs` (admins): the last run of each scheduled job."""

from __future__ import annotations

from core import jobnames
from views.jobs import job_runs
from commands.context import Context, Reply
from commands.parser import Command
from commands.permissions import require_admin
from storage import ledger, webhooks

USAGE = "jobs"
DESCRIPTION = "admins: the last run of each scheduled job"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    require_admin(ctx, "see the scheduled jobs")
    runs = ledger.last_runs(session=ctx.session)
    names = jobnames.scheduled(ctx.settings)
    names += [n for n in jobnames.OPTIONAL if n in runs and n not in names]  # ran before it was switched off
    counts = webhooks.counts(session=ctx.session) if ctx.settings.webhooks else None
    text, blocks = job_runs(names, runs, now=ctx.now, webhook_counts=counts)
    return Reply(text=text, blocks=blocks)

"""`/partner jobs` (admins): the last run of each scheduled job."""

from __future__ import annotations

from core import jobnames
from views.text import ago, lines_section
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
    lines = ["*Scheduled jobs: last runs*"]
    for name in names:
        r = runs.get(name)
        if r is None:
            lines.append(f"• `{name}` · never run")
            continue
        icon = {"ok": ":white_check_mark:", "partial": ":warning:", "failed": ":x:"}.get(r.outcome, ":hourglass:")
        lines.append(f"• {icon} `{name}` {ago(r.started_at, ctx.now)} · {r.outcome} · sent {r.sent}, "
                     f"already sent {r.skipped}, failed {r.failed}" + (f" · {r.detail}" if r.detail else ""))
    if ctx.settings.webhooks:
        counts = webhooks.counts(session=ctx.session)
        lines.append(f"*Webhook events*: {counts.get('pending', 0):,} pending · {counts.get('delivered', 0):,} delivered · "
                     f"{counts.get('failed', 0):,} failed · {counts.get('dead', 0):,} dead (gave up after 24 hours)")
    return Reply(text="Scheduled jobs", blocks=lines_section(lines))

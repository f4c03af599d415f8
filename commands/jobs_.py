"""`/partner jobs` (admins): the last run of each scheduled job."""

from __future__ import annotations

from views.text import ago, lines_section
from commands.context import Context, Reply
from commands.parser import Command
from commands.permissions import require_admin
from storage import ledger, webhooks

USAGE = "jobs"
DESCRIPTION = "admins: the last run of each scheduled job"
JOB_NAMES = ("qbr-reminders", "stalled-onboarding", "request-escalations", "kpi-digest", "retry", "health-refresh")


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    require_admin(ctx, "see the scheduled jobs")
    runs = ledger.last_runs(session=ctx.session)
    names = list(JOB_NAMES) + [n for n in ("crm-sync", "webhook-delivery") if n in runs or
                               (n == "crm-sync" and ctx.settings.crm) or (n == "webhook-delivery" and ctx.settings.webhooks)]
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

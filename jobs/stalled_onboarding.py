"""`stalled-onboarding` (hourly at :00): partners whose checklist has not moved in
`PARTNERBOT_STALL_DAYS` → a DM to the owner (once per stall) and a grouped alert
to the digest channel (once a week)."""

from __future__ import annotations

from views.jobs import stalled_channel, stalled_dm
from jobs.base import JobContext, Notification
from storage import onboarding
from storage.periods import iso_week, local_today

JOB_ID = "stalled-onboarding"
MORNING_HOUR = 8


def collect(ctx: JobContext) -> list[Notification]:
    s = ctx.settings
    out: list[Notification] = []
    rows = onboarding.stalled_rows(session=ctx.session, now=ctx.now, stall_days=s.stall_days)
    for partner, step, days in rows:
        since = partner.onboarding_changed_at or partner.created_at
        if ctx.now.astimezone(ctx.user_tz(partner.owner_id)).hour >= MORNING_HOUR:
            text, blocks = stalled_dm(partner, step=step, days=days)
            out.append(Notification(JOB_ID, f"partner:{partner.id}", since.date().isoformat(), partner.owner_id, text, blocks))
    if rows and ctx.now.astimezone(s.zone).hour >= MORNING_HOUR:
        if s.digest_channel:
            text, blocks = stalled_channel(rows)
            out.append(Notification(JOB_ID, "channel", iso_week(local_today(ctx.now, s.zone)), s.digest_channel, text, blocks))
        else:
            ctx.warnings.append("PARTNERBOT_DIGEST_CHANNEL is not set: the stalled-onboarding alert was not posted")
    return out

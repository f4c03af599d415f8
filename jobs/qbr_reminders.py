"""`qbr-reminders` (hourly at :00): the owner's DM before a QBR, in the owner's
morning; follow-ups set with `log … next:<date>` on their day; partners overdue
for a QBR, grouped, to the digest channel once a week."""

from __future__ import annotations

from datetime import timedelta

from views.jobs import follow_up_dm, overdue_qbrs, qbr_reminder_dm
from jobs.base import JobContext, Notification
from storage import interactions, qbrs
from storage.periods import iso_week, local_today

JOB_ID = "qbr-reminders"
MORNING_HOUR = 8


def collect(ctx: JobContext) -> list[Notification]:
    s = ctx.settings
    team_today = local_today(ctx.now, s.zone)
    out: list[Notification] = []
    # A day of slack each side: owners may live a day ahead of or behind the team.
    for qbr, partner in qbrs.upcoming_qbrs(session=ctx.session, start=team_today - timedelta(days=1),
                                             end=team_today + timedelta(days=s.qbr_remind_days + 1)):
        local = ctx.now.astimezone(ctx.user_tz(partner.owner_id))
        days = (qbr.scheduled_for - local.date()).days
        if 0 <= days <= s.qbr_remind_days and local.hour >= MORNING_HOUR:
            text, blocks = qbr_reminder_dm(qbr, partner, days=days)
            # Keyed by the date: a moved QBR is reminded again for its new date, never twice for one date.
            out.append(Notification(JOB_ID, f"qbr:{qbr.id}", qbr.scheduled_for.isoformat(), partner.owner_id, text, blocks))
    # Follow-ups set with `log … next:<date>`: the owner's DM on that day, in their morning.
    for interaction, partner in interactions.follow_ups(session=ctx.session, start=team_today - timedelta(days=1), end=team_today + timedelta(days=1)):
        local = ctx.now.astimezone(ctx.user_tz(partner.owner_id))
        if interaction.follow_up_on == local.date() and local.hour >= MORNING_HOUR:
            text, blocks = follow_up_dm(interaction, partner)
            out.append(Notification(JOB_ID, f"follow-up:{interaction.id}", interaction.follow_up_on.isoformat(), partner.owner_id, text, blocks))
    if ctx.now.astimezone(s.zone).hour >= MORNING_HOUR:
        overdue = qbrs.overdue_for_qbr(
            session=ctx.session,
            held_before=team_today - timedelta(days=s.qbr_interval_days),
            created_before=ctx.now - timedelta(days=s.qbr_interval_days),
        )
        if overdue:
            if s.digest_channel:
                text, blocks = overdue_qbrs(overdue, interval=s.qbr_interval_days)
                out.append(Notification(JOB_ID, "overdue", iso_week(team_today), s.digest_channel, text, blocks))
            else:
                ctx.warnings.append("PARTNERBOT_DIGEST_CHANNEL is not set: the overdue-QBR list was not posted")
    return out

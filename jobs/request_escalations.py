"""`request-escalations` (hourly at :05): requests left unclaimed past the SLA get a
reply in their thread mentioning the requester, once per further SLA period; a
claimer gets one reminder at twice the SLA. The SLA is the team's own (`route …
sla:`) or PARTNERBOT_REQUEST_SLA_HOURS, counted on the one SLA clock
(storage/sla.py: business hours and holidays in `PARTNERBOT_TIMEZONE`). The ledger
period is the SLA-period number."""

from __future__ import annotations

from views.jobs import claimer_reminder, escalation
from views.requests import request_message
from jobs.base import JobContext, Notification
from storage import ledger, requests, sla
from storage.models import RequestStatus

JOB_ID = "request-escalations"


def collect(ctx: JobContext) -> list[Notification]:
    clock, slas = sla.clock(ctx.settings), sla.team_slas(session=ctx.session)
    groups = requests.usergroups(session=ctx.session)
    out = unposted(ctx)
    for request in requests.escalation_candidates(session=ctx.session):
        assert request.channel_id and request.message_ts
        hours_allowed = sla.sla_hours(request.team, slas=slas, settings=ctx.settings)
        if request.status == RequestStatus.OPEN:
            hours = clock.hours(request.created_at, ctx.now)
            periods = int(hours // hours_allowed)
            if periods >= 1:
                text, blocks = escalation(request, hours=hours, sla=hours_allowed, periods=periods,
                                          usergroup=groups.get(request.team))
                out.append(Notification(JOB_ID, f"request:{request.id}", str(periods), request.channel_id, text, blocks,
                                        thread_ts=request.message_ts))
        elif request.claimed_at is not None:
            hours = clock.hours(request.claimed_at, ctx.now)
            if hours >= 2 * hours_allowed:
                text, blocks = claimer_reminder(request, hours=hours)
                out.append(Notification(JOB_ID, f"request:{request.id}:claimer", "1", request.channel_id, text, blocks,
                                        thread_ts=request.message_ts))
    return out


def unposted(ctx: JobContext) -> list[Notification]:
    """Requests whose post never completed (a crash, a refused channel): posted now to
    their team's current channel, through the same ledger row as the first attempt,
    so they are escalated like the rest once they are in a channel."""
    channels = requests.routes(session=ctx.session, defaults=ctx.settings.routes)
    out: list[Notification] = []
    for request in requests.unposted(session=ctx.session, created_before=ctx.now - ledger.CRASHED_AFTER):
        channel = channels.get(request.team)
        if not channel:
            ctx.warnings.append(f"request #{request.id}: no channel is routed for {request.team}")
            continue
        text, blocks = request_message(request, request.partner, now=ctx.now)
        key = requests.post_key(request.id)
        out.append(Notification(key["job"], key["subject"], key["period"], channel, text, blocks, retake=True))
    return out

"""`request-escalations` (hourly at :05): requests left unclaimed past the SLA get a
reply in their thread mentioning the requester, once per further SLA period; a
claimer gets one reminder at twice the SLA. SLA hours count Monday–Friday in
`PARTNERBOT_TIMEZONE`. The ledger period is the SLA-period number."""

from __future__ import annotations

from bot.views.jobs import claimer_reminder, escalation
from jobs.base import JobContext, Notification
from storage import requests
from storage.models import RequestStatus
from storage.periods import business_hours

JOB_ID = "request-escalations"


def collect(ctx: JobContext) -> list[Notification]:
    sla = ctx.settings.request_sla_hours
    groups = requests.usergroups(session=ctx.session)
    out: list[Notification] = []
    for request in requests.escalation_candidates(session=ctx.session):
        assert request.channel_id and request.message_ts
        if request.status == RequestStatus.OPEN:
            hours = business_hours(request.created_at, ctx.now, ctx.settings.zone)
            periods = int(hours // sla)
            if periods >= 1:
                text, blocks = escalation(request, hours=hours, sla=sla, periods=periods, usergroup=groups.get(request.team))
                out.append(Notification(JOB_ID, f"request:{request.id}", str(periods), request.channel_id, text, blocks,
                                        thread_ts=request.message_ts))
        elif request.claimed_at is not None:
            hours = business_hours(request.claimed_at, ctx.now, ctx.settings.zone)
            if hours >= 2 * sla:
                text, blocks = claimer_reminder(request, hours=hours)
                out.append(Notification(JOB_ID, f"request:{request.id}:claimer", "1", request.channel_id, text, blocks,
                                        thread_ts=request.message_ts))
    return out

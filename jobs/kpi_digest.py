"""`kpi-digest` (weekly, `PARTNERBOT_DIGEST_SCHEDULE`): the previous full week
(Monday–Sunday, team time) and quarter-to-date as of that week's end, the change
since the last digest, top and at-risk partners, stalled onboarding, upcoming
QBRs — and a chart uploaded into the digest's thread."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

from views.jobs import digest, nothing_to_report
from jobs.base import JobContext, Notification
from jobs.chart import attainment_png
from storage import kpis, ledger, onboarding, partners, qbrs
from storage.periods import iso_week, local_today, month_of, quarter_months, quarter_of

JOB_ID = "kpi-digest"


def collect(ctx: JobContext) -> list[Notification]:
    s = ctx.settings
    if not s.digest_channel:
        ctx.warnings.append("PARTNERBOT_DIGEST_CHANNEL is not set: the weekly digest was not posted")
        return []
    today = local_today(ctx.now, s.zone)
    week_start = today - timedelta(days=today.weekday() + 7)
    week_end = week_start + timedelta(days=7)
    start = datetime.combine(week_start, time(), s.zone)
    end = datetime.combine(week_end, time(), s.zone)
    last_day = week_end - timedelta(days=1)
    quarter = quarter_of(month_of(last_day), fiscal_start=s.fiscal_year_start)
    months = [m for m in quarter_months(quarter, fiscal_start=s.fiscal_year_start) if m <= month_of(last_day)]
    # One statement over the quarter's values and targets, whatever the number of partners.
    workspace = kpis.workspace_quarter(session=ctx.session, quarter=quarter, months=months, as_of=end, zone=s.zone)
    totals, attained, targets = workspace.totals, workspace.attained, workspace.targets
    week = iso_week(week_start)
    previous_payload = ledger.payload_of(session=ctx.session, job=JOB_ID, subject="digest", period=iso_week(week_start - timedelta(days=7)))
    previous = None
    if previous_payload:
        meta = json.loads(previous_payload).get("meta") or {}
        if meta.get("quarter") == quarter:
            previous = {k: Decimal(v) for k, v in meta.get("totals", {}).items()}
    facts = {
        "totals": totals,
        "at_risk": partners.at_risk(session=ctx.session),
        "stalled": onboarding.count_stalled(session=ctx.session, now=ctx.now, stall_days=s.stall_days),
        "upcoming": qbrs.upcoming_qbrs(session=ctx.session, start=today, end=today + timedelta(days=7)),
        "activity": partners.activity(session=ctx.session, start=start, end=end),
    }
    text, blocks = digest(week=week, quarter=quarter, targets=targets, attained=attained, previous=previous,
                          top=workspace.top, currency=s.currency, **facts)
    meta = {"quarter": quarter, "totals": {k: str(v) for k, v in totals.items()}}
    out = [Notification(JOB_ID, "digest", week, s.digest_channel, text, blocks, meta=meta)]
    if not nothing_to_report(**facts):
        png = attainment_png(quarter=quarter, totals=attained, targets=targets)
        out.append(Notification(JOB_ID, "chart", week, s.digest_channel, f"Attainment {quarter}", [],
                                thread_of="digest", file=(f"attainment-{week}.png", f"Quarter-to-date attainment {quarter}", png)))
    return out

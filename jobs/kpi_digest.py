"""`kpi-digest` (weekly, `PARTNERBOT_DIGEST_SCHEDULE`): the previous full week
(Monday–Sunday, team time) and quarter-to-date as of that week's end — attainment
against pace, its change on the week and against the same week last quarter, each
owner's row, deals waiting for a decision, movement, requests — and a chart of
attainment vs pace uploaded into the digest's thread. The figures are
storage/digest_figures.py's; the layout views/digest.py's."""

from __future__ import annotations

from jobs.base import JobContext, Notification
from jobs.chart import attainment_png
from storage import digest_figures
from views.digest import digest, nothing_to_report

JOB_ID = "kpi-digest"


def collect(ctx: JobContext) -> list[Notification]:
    s = ctx.settings
    if not s.digest_channel:
        ctx.warnings.append("PARTNERBOT_DIGEST_CHANNEL is not set: the weekly digest was not posted")
        return []
    figures = digest_figures.collect(session=ctx.session, now=ctx.now, settings=s)
    week = figures.week.label
    text, blocks = digest(figures, currency=s.currency, admins=list(s.admins))
    out = [Notification(JOB_ID, "digest", week, s.digest_channel, text, blocks)]
    if not nothing_to_report(figures):
        png = attainment_png(quarter=figures.week.quarter, figures=figures.kpis)
        out.append(Notification(JOB_ID, "chart", week, s.digest_channel, f"Attainment {figures.week.quarter}", [],
                                thread_of=(JOB_ID, "digest", week),
                                file=(f"attainment-{week}.png", f"Quarter-to-date attainment {figures.week.quarter}", png)))
    return out

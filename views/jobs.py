"""Block Kit for scheduled posts: reminders, alerts, escalations, the weekly digest."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from views.text import ago, metric_value, plural, verb
from views.text import MAX_BLOCKS, context, escape, header, lines_section, more, section, user
from storage.health import stored
from storage.models import HelpRequest, Partner, Qbr

LIST_LIMIT = 40


def _partner(p: Partner) -> str:
    return f"*{escape(p.name)}*"


def qbr_reminder_dm(qbr: Qbr, partner: Partner, *, days: int) -> tuple[str, list[dict[str, Any]]]:
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    assert qbr.scheduled_for is not None
    text = f"QBR with {_partner(partner)} {when} ({qbr.scheduled_for:%A %Y-%m-%d})."
    blocks = [
        section(f":calendar: {text}"),
        context(f"Prepare KPIs vs plan: `/partner status {escape(partner.name)}` · after it: `/partner qbr {escape(partner.name)} done &lt;notes&gt;`"),
    ]
    return escape(f"QBR with {partner.name} {when}"), blocks


def follow_up_dm(interaction, partner: Partner) -> tuple[str, list[dict[str, Any]]]:
    logged = interaction.occurred_at.strftime("%Y-%m-%d")
    text = f"Follow up with {_partner(partner)} today: you noted on {logged}: “{escape(interaction.summary[:500])}”"
    return escape(f"Follow up with {partner.name} today"), [section(f":bell: {text}")]


def overdue_qbrs(rows: list[tuple[Partner, date | None]], *, interval: int) -> tuple[str, list[dict[str, Any]]]:
    lines = [f":hourglass: *{plural(len(rows), 'partner')} {verb(len(rows), 'has')} had no QBR in {plural(interval, 'day')}*"]
    for partner, held in rows[:LIST_LIMIT]:
        last = f"last QBR {held.isoformat()}" if held else "no QBR held yet"
        lines.append(f"• {_partner(partner)} · {last} · owner {user(partner.owner_id)}")
    blocks = lines_section(lines)
    if len(rows) > LIST_LIMIT:
        blocks.append(more(len(rows) - LIST_LIMIT))
    return f"{plural(len(rows), 'partner')} {verb(len(rows), 'is')} overdue for a QBR", blocks[:MAX_BLOCKS]


def stalled_dm(partner: Partner, *, step: str | None, days: int) -> tuple[str, list[dict[str, Any]]]:
    stuck = f"stuck on *{escape(step)}*" if step else "no step left"
    text = f"Onboarding of {_partner(partner)} has not moved in {plural(days, 'day')} ({stuck})."
    hint = context(f"Mark progress with `/partner onboard {escape(partner.name)} done &lt;step&gt;`.")
    return escape(f"Onboarding of {partner.name} stalled for {plural(days, 'day')}"), [section(f":construction: {text}"), hint]


def stalled_channel(rows: list[tuple[Partner, str | None, int]]) -> tuple[str, list[dict[str, Any]]]:
    lines = [f":construction: *{plural(len(rows), 'partner')} {verb(len(rows), 'is')} stalled in onboarding*"]
    for partner, step, days in rows[:LIST_LIMIT]:
        lines.append(f"• {_partner(partner)} · {plural(days, 'day')} on *{escape(step or '—')}* · owner {user(partner.owner_id)}")
    blocks = lines_section(lines)
    if len(rows) > LIST_LIMIT:
        blocks.append(more(len(rows) - LIST_LIMIT))
    return f"{plural(len(rows), 'partner')} {verb(len(rows), 'is')} stalled in onboarding", blocks[:MAX_BLOCKS]


def _asker(request: HelpRequest) -> str:
    """Who is waiting, mentioned in an internal channel: for a request the partner asked in
    its channel, its owner (the partner's person is not ours to ping there)."""
    if request.from_partner:
        return f"the partner in its channel (owner {user(request.partner.owner_id)})"
    return user(request.requester_id)


def escalation(request: HelpRequest, *, hours: float, sla: int, periods: int, usergroup: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    again = " again" if periods > 1 else ""
    who = f"<!subteam^{usergroup}>, can someone" if usergroup else "Can someone"
    text = (f":alarm_clock: Request #{request.id} for {_partner(request.partner)} has waited {plural(round(hours), 'business hour')} "
            f"unclaimed (SLA {sla} h){again}. {who} claim it? Asked by {_asker(request)}.")
    return escape(f"Request #{request.id} is past its SLA"), [section(text)]


def claimer_reminder(request: HelpRequest, *, hours: float) -> tuple[str, list[dict[str, Any]]]:
    text = (f":hourglass_flowing_sand: {user(request.claimed_by or '')}, request #{request.id} for {_partner(request.partner)} "
            f"was claimed {plural(round(hours), 'business hour')} ago and is not resolved yet, and {_asker(request)} is waiting.")
    return escape(f"Request #{request.id} is still open"), [section(text)]


def _health(p: Partner) -> str:
    h = stored(p)
    return f"({h.label})" if h.score is None else f"({h.score}/100)"


def nothing_to_report(*, totals: dict[str, Decimal], activity: dict[str, int], at_risk: list[Partner],
                      upcoming: list[tuple[Qbr, Partner]], stalled: int) -> bool:
    """A quiet week: the digest says so in one line, and the job posts no chart."""
    return not any(totals.values()) and not any(activity.values()) and not at_risk and not upcoming and not stalled


def digest(
    *,
    week: str,
    quarter: str,
    totals: dict[str, Decimal],
    targets: dict[str, Decimal],
    attained: dict[str, Decimal] | None = None,
    previous: dict[str, Decimal] | None,
    top: list[tuple[str, Decimal]],
    at_risk: list[Partner],
    stalled: int,
    upcoming: list[tuple[Qbr, Partner]],
    activity: dict[str, int],
    currency: str,
) -> tuple[str, list[dict[str, Any]]]:
    if nothing_to_report(totals=totals, activity=activity, at_risk=at_risk, upcoming=upcoming, stalled=stalled):
        return f"Partner digest {week}: nothing to report this week.", [section(f":bar_chart: *Partner digest {week}*: nothing to report this week.")]
    blocks: list[dict[str, Any]] = [header(f"Partner digest · week {week}")]
    rows = [_metric_line(metric, totals.get(metric, Decimal(0)), targets.get(metric), attained, previous, currency)
            for metric in ("revenue", "leads", "deals", "adoption")]
    blocks += lines_section([f"*Quarter to date ({quarter}) vs joint business plans*", *rows])
    blocks.append(section(
        f"*This week*: {plural(activity.get('interactions', 0), 'interaction')} logged · {plural(activity.get('deals', 0), 'deal')} registered · "
        f"{plural(activity.get('requests_opened', 0), 'request')} opened, {activity.get('requests_resolved', 0):,} resolved"
    ))
    if top:
        blocks += lines_section(["*Top partners by revenue (QTD)*"] + [f"{i}. *{escape(n)}* {metric_value('revenue', v, currency)}" for i, (n, v) in enumerate(top, 1)])
    if at_risk:
        # The stored score, as the card, portfolio, list and App Home show it.
        shown = ", ".join(f"*{escape(p.name)}* {_health(p)}" for p in at_risk[:15])
        extra = f" and {len(at_risk) - 15:,} more" if len(at_risk) > 15 else ""
        blocks.append(section(f":warning: *At risk ({len(at_risk):,})*: {shown}{extra}"))
    blocks.append(section(f":construction: *Stalled onboarding*: {plural(stalled, 'partner')}"))
    if upcoming:
        lines = [f"• {q.scheduled_for:%a %b %d} {_partner(p)} (owner {user(p.owner_id)})" for q, p in upcoming[:10]]
        extra = [f"… and {len(upcoming) - 10:,} more"] if len(upcoming) > 10 else []
        blocks += lines_section(["*QBRs in the next 7 days*", *lines, *extra])
    blocks.append(context("Chart of quarter-to-date attainment in the thread."))
    return f"Partner digest {week}", blocks[:MAX_BLOCKS]


def _metric_line(metric: str, value: Decimal, target: Decimal | None, attained: dict[str, Decimal] | None,
                 previous: dict[str, Decimal] | None, currency: str) -> str:
    """One metric of the digest: quarter to date, against the target, and the change since the last digest."""
    vs = ""
    if target:
        # Attainment as on the cards (storage.kpis.judge): over partners with a target, and only
        # the months their month targets cover; said apart when it differs from the total.
        reached = (attained or {}).get(metric, value)
        shown_target = metric_value(metric, target, currency)
        vs = (f" of {shown_target} ({float(reached / target):.0%})" if reached == value else
              f" · {metric_value(metric, reached, currency)} of {shown_target} target ({float(reached / target):.0%})")
    change = ""
    if previous is not None and metric in previous:
        delta = value - Decimal(str(previous[metric]))
        sign = "+" if delta >= 0 else "−"
        change = f" · {sign}{metric_value(metric, abs(delta), currency)} since last digest"
    label = "adoption (avg)" if metric == "adoption" else metric
    return f"• *{label}* {metric_value(metric, value, currency)}{vs}{change}"


RUN_ICON = {"ok": ":white_check_mark:", "partial": ":warning:", "failed": ":x:"}


def job_runs(names: list[str], runs: dict[str, Any], *, now: datetime,
             webhook_counts: dict[str, int] | None) -> tuple[str, list[dict[str, Any]]]:
    """`/partner jobs`: each job's last run (a storage.ledger run row), then the webhook outbox if any."""
    lines = ["*Scheduled jobs: last runs*"]
    for name in names:
        r = runs.get(name)
        if r is None:
            lines.append(f"• `{name}` · never run")
            continue
        icon = RUN_ICON.get(r.outcome, ":hourglass:")
        lines.append(f"• {icon} `{name}` {ago(r.started_at, now)} · {r.outcome} · sent {r.sent}, "
                     f"already sent {r.skipped}, failed {r.failed}" + (f" · {r.detail}" if r.detail else ""))
    if (counts := webhook_counts) is not None:
        lines.append(f"*Webhook events*: {counts.get('pending', 0):,} pending · {counts.get('delivered', 0):,} delivered · "
                     f"{counts.get('failed', 0):,} failed · {counts.get('dead', 0):,} dead (gave up after 24 hours)")
    return "Scheduled jobs", lines_section(lines)

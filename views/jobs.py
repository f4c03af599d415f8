"""Block Kit for scheduled posts: reminders, alerts, escalations (the weekly digest: views/digest.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from views.text import ago, plural, verb
from views.text import MAX_BLOCKS, context, escape, lines_section, more, section, user
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

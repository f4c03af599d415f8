"""Block Kit for the QBR brief (`/partner qbr <partner> brief`): the owner's internal
pack before a business review, with a proposed agenda and, when the partner has a
linked channel, **Share scorecard with partner** (which posts the partner-facing
scorecard, never this)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from views.ids import Action
from views.partner_card import STAGE_EMOJI, health_badge
from views.scorecard import pace_line, shown_date
from views.text import (
    MAX_BLOCKS,
    button,
    context,
    cut,
    escape,
    fields,
    header,
    lines_section,
    metric_value,
    money,
    plural,
    user,
)
from storage.brief import BriefData, KpiChange
from storage.kpis import LEVELS
from storage.models import DealStatus, Stage

DEAL_LABEL = {DealStatus.REVIEW: "submitted by the partner, to review", DealStatus.REGISTERED: "registered",
              DealStatus.CONFLICT: "in conflict", DealStatus.APPROVED: "approved", DealStatus.REJECTED: "rejected"}


def brief(data: BriefData, *, currency: str) -> tuple[str, list[dict[str, Any]]]:
    """The brief's fallback text (plain words) and blocks."""
    title = f"{data.name} · QBR brief · {data.quarter}"
    blocks: list[dict[str, Any]] = [
        header(cut(title, 150)),
        context(f"Internal, for you: not for the partner. {data.quarter} is {data.elapsed:.0%} through."),
        fields([
            ("Stage", f"{STAGE_EMOJI.get(data.stage, '')} {data.stage}"),
            ("Owner", user(data.owner_id)),
            ("Health", health_badge(data.health)),
            ("QBR", f"next {shown_date(data.next_qbr) if data.next_qbr else 'not scheduled'} · "
                    f"last {shown_date(data.last_qbr) if data.last_qbr else 'none held'}"),
        ]),
        context("Health: " + escape("; ".join(data.health.reasons))),
    ]
    blocks += lines_section([f"*KPIs {data.quarter}* vs the joint plan, beside {data.last_quarter}",
                             *(kpi_lines(data, currency) or ["No KPIs or targets this quarter or last."])])
    blocks += lines_section(["*This quarter*", deals_line(data, currency), requests_line(data), interactions_line(data),
                             onboarding_line(data)])
    blocks += lines_section(["*Open risks*", *([f"• {r}" for r in risks(data, currency)] or ["None."])])
    blocks += lines_section(["*Proposed agenda*", *(f"{i}. {item}" for i, item in enumerate(agenda(data), 1))])
    blocks.append(share_or_link(data))
    return title, blocks[:MAX_BLOCKS]


def kpi_lines(data: BriefData, currency: str) -> list[str]:
    return [f"• {pace_line(c.now, currency) or f'*{c.now.metric}* nothing yet'} · {change(c, data.last_quarter, currency)}"
            for c in data.kpis]


def change(c: KpiChange, last_quarter: str, currency: str) -> str:
    """Last quarter's figure and how this quarter compares: a level (adoption) by points,
    a running total by how much of last quarter's it has reached so far."""
    last, now = c.last, c.now
    if not last.actual and not last.target:
        return f"{last_quarter}: nothing recorded"
    text = f"{last_quarter}: {metric_value(last.metric, last.actual, currency)}"
    if last.target:
        text += f" of {metric_value(last.metric, last.target, currency)} ({last.ratio or 0:.0%})"
    if last.actual and last.metric in LEVELS:
        text += f", now {float(now.actual - last.actual):+.0f} points"
    elif last.actual:
        text += f", so far {float(now.actual / last.actual):.0%} of it"
    return text


def deals_line(data: BriefData, currency: str) -> str:
    if not data.deals:
        return "• Deals: none registered."
    return "• Deals: " + ", ".join(f"{t.count:,} {DEAL_LABEL.get(t.status, t.status)} ({money(t.value, currency)})"
                                   for t in data.deals)


def span(value: timedelta) -> str:
    """"40 min", "5 h", "2.5 days"."""
    hours = value.total_seconds() / 3600
    if hours < 1:
        return f"{max(round(hours * 60), 1)} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def requests_line(data: BriefData) -> str:
    r = data.requests
    if not r.asked:
        return "• Requests: none asked."
    times = [f"median {span(t)} to {what}" for t, what in ((r.to_claim, "claim"), (r.to_resolve, "resolve")) if t is not None]
    return (f"• Requests: {r.asked:,} asked"
            + (f" ({r.from_partner:,} by the partner in its channel)" if r.from_partner else "")
            + f": {r.open:,} open, {r.claimed:,} claimed, {r.resolved:,} resolved"
            + (" · " + ", ".join(times) if times else ""))


def interactions_line(data: BriefData) -> str:
    logged = ", ".join(plural(n, kind) for kind, n in data.interactions) if data.interactions else "none logged"
    active = f"; the partner last wrote in its channel {data.partner_active_on.isoformat()}" if data.partner_active_on else ""
    return f"• Interactions: {logged}{active}"


def onboarding_line(data: BriefData) -> str:
    left = [label for key, label in data.steps if key not in data.steps_done]
    done = len(data.steps) - len(left)
    return f"• Onboarding: {done}/{len(data.steps)} done" + (f"; next: {left[0]}" if left else "")


def risks(data: BriefData, currency: str) -> list[str]:
    found = []
    if data.stage == Stage.AT_RISK:
        found.append("Marked at-risk.")
    elif data.health.label == "at risk":
        found.append(f"Health is {data.health.score}/100.")
    for f in data.overdue_follow_ups:
        found.append(f"Follow-up due {shown_date(f.on)} with nothing logged since: {escape(cut(f.summary, 150))}")
    if data.stalled_days is not None:
        found.append(f"Onboarding has not moved for {plural(data.stalled_days, 'day')}.")
    for c in data.conflicts:
        first = f", first registered by *{escape(c.other)}*" if c.other else ""
        found.append(f"Deal conflict: *{escape(c.customer)}* ({money(c.amount, currency)}){first}.")
    return found


def agenda(data: BriefData) -> list[str]:
    """A few points for the meeting, from the figures above."""
    items = []
    behind = [c.now for c in data.kpis if c.now.target and c.now.elapsed is not None and (c.now.ratio or 0) < c.now.elapsed]
    if behind:
        items.append("Close the gap on " + ", ".join(f"{a.metric} ({a.ratio or 0:.0%} of target, {a.elapsed:.0%} of the time)"
                                                    for a in behind) + ": what would get it back on pace?")
    elif any(c.now.target for c in data.kpis):
        items.append(f"Review the joint plan for {data.quarter}: on pace so far.")
    else:
        items.append(f"Agree targets for {data.quarter} (`/partner target`).")
    waiting = sum(t.count for t in data.deals if t.status in (DealStatus.REVIEW, DealStatus.CONFLICT))
    if waiting:
        items.append(f"Decide the {plural(waiting, 'deal registration')} waiting for review before the meeting.")
    if data.requests.open or data.requests.claimed:
        items.append(f"Update the partner on its {plural(data.requests.open + data.requests.claimed, 'open request')}.")
    left = [label for key, label in data.steps if key not in data.steps_done]
    if left and data.stage in (Stage.PROSPECT, Stage.ONBOARDING):
        items.append(f"Onboarding: agree a date for “{left[0]}”.")
    items.append("Plan next quarter: pipeline, targets and the next QBR date.")
    return items


def share_or_link(data: BriefData) -> dict[str, Any]:
    """Share scorecard with partner when a partner channel is linked; else how to link one."""
    if data.channel_id:
        return {"type": "actions", "elements": [
            button("Share scorecard with partner", Action.BRIEF_SHARE_SCORECARD, value=str(data.partner_id))]}
    return context(f"To share the partner's scorecard with it, link its Slack Connect channel: "
                    f"`/partner channel {escape(data.name)} #channel`.")

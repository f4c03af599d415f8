"""Block Kit for one partner: the status card (`/partner status NAME`, App Home's
Open) and its pieces: stage and health badges, KPI bars, the onboarding checklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from views.ids import Action
from views.text import (
    MAX_BLOCKS,
    ago,
    button,
    context,
    cut,
    divider,
    escape,
    fields,
    header,
    lines_section,
    metric_value,
    money,
    plural,
    section,
    user,
)
from storage.health import Health
from storage.models import DealRegistration, HelpRequest, Interaction, OnboardingStep, Partner, Qbr
from storage.kpis import Attainment

STAGE_EMOJI = {
    "prospect": ":seedling:",
    "onboarding": ":construction:",
    "active": ":large_green_circle:",
    "at-risk": ":warning:",
    "churned": ":black_circle:",
}
HEALTH_EMOJI = {"healthy": ":large_green_circle:", "needs attention": ":large_yellow_circle:", "at risk": ":red_circle:"}


def health_badge(health: Health) -> str:
    if health.score is None:
        return f":white_circle: {health.label}"
    return f"{HEALTH_EMOJI.get(health.label, ':red_circle:')} {health.score}/100 ({health.label})"


@dataclass(frozen=True)
class CardData:
    partner: Partner
    health: Health
    recent: list[Interaction]
    interaction_count: int
    steps: list[tuple[str, str]] = field(default_factory=list)
    steps_done: dict[str, OnboardingStep] = field(default_factory=dict)
    next_qbr: Qbr | None = None
    last_qbr: Qbr | None = None
    quarter: str = ""
    attainment: list[Attainment] = field(default_factory=list)
    deals: list[DealRegistration] = field(default_factory=list)
    requests: list[HelpRequest] = field(default_factory=list)
    channel_messages: int = 0  # the partner's messages in its channel over the last 30 days


def bar(ratio: float, width: int = 10) -> str:
    filled = max(0, min(width, round(ratio * width)))
    return "█" * filled + "░" * (width - filled)


def kpi_lines(attainment: list[Attainment], currency: str) -> list[str]:
    lines = []
    for a in attainment:
        if not a.target and not a.actual and not a.influenced:
            continue
        actual = metric_value(a.metric, a.actual, currency)
        influenced = f" (+{metric_value(a.metric, a.influenced, currency)} influenced)" if a.influenced else ""
        if a.target:
            ratio = a.ratio or 0.0
            # A target made of month targets covers only those months: say which.
            scope = f" for {', '.join(a.months)}" if a.months else ""
            lines.append(f"`{bar(ratio)}` *{a.metric}* {actual} of {metric_value(a.metric, a.target, currency)}{scope} · {ratio:.0%}{influenced}")
        else:
            lines.append(f"*{a.metric}* {actual}{influenced} · no target")
    return lines


def onboarding_line(steps: list[tuple[str, str]], done: dict[str, OnboardingStep], zone: ZoneInfo) -> str:
    marks = []
    for key, label in steps:
        step = done.get(key)
        marks.append(f":white_check_mark: {label} ({step.done_at.astimezone(zone):%b %d})" if step else f":white_square: {label} `{key}`")
    return f"*Onboarding* {sum(1 for k, _ in steps if k in done)}/{len(steps)}\n" + "\n".join(marks)


def partner_card(
    data: CardData, *, now: datetime, zone: ZoneInfo, currency: str = "USD", share_text: str | None = None
) -> list[dict[str, Any]]:
    p = data.partner
    blocks = _summary(data, zone=zone)
    kpis = kpi_lines(data.attainment, currency)
    if kpis:
        blocks += lines_section([f"*KPIs {data.quarter}* vs joint business plan", *kpis])
    elif data.quarter:
        blocks.append(context(f"No KPIs for {data.quarter} yet: `/partner kpi {escape(_ref(p.name))} revenue 12.5k`, `/partner target …`"))
    if data.steps and (p.stage in ("prospect", "onboarding") or len(data.steps_done) < len(data.steps)):
        blocks.append(section(onboarding_line(data.steps, data.steps_done, zone)))
    blocks += _open_items(data, now=now, currency=currency)
    blocks.append(divider())
    blocks += _recent(data, zone=zone)
    if share_text:
        blocks.append(share_actions(share_text))
    return blocks[:MAX_BLOCKS]


def _summary(data: CardData, *, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Name, archive note, the facts (type, tier, owner, stage, health, QBRs), the health
    reasons and, once the partner has posted in its channel, when it last did."""
    p = data.partner
    next_qbr = data.next_qbr.scheduled_for.isoformat() if data.next_qbr and data.next_qbr.scheduled_for else "not scheduled"
    last_qbr = data.last_qbr.held_on.isoformat() if data.last_qbr and data.last_qbr.held_on else "none held"
    if data.last_qbr and data.last_qbr.notes and data.last_qbr.notes.strip():  # the first line of its notes
        last_qbr += f": {escape(cut(data.last_qbr.notes.strip().splitlines()[0], 120))}"
    return [
        header(cut(p.name, 140)),
        *([context(f":file_cabinet: *Archived* {p.archived_at:%Y-%m-%d}: hidden from lists, App Home and jobs")] if p.archived_at else []),
        fields(
            [
                ("Type", p.type),
                ("Tier", escape(p.tier) if p.tier else "—"),
                ("Owner", user(p.owner_id)),
                ("Stage", f"{STAGE_EMOJI.get(p.stage, '')} {p.stage}"),
                ("Health", health_badge(data.health)),
                ("QBR", f"next {next_qbr} · last {last_qbr}"),
            ]
        ),
        context("Health: " + escape("; ".join(data.health.reasons))),
        *([context(partner_active_line(p.partner_active_at, data.channel_messages, zone))] if p.partner_active_at else []),
    ]


def partner_active_line(active_at: datetime, messages: int, zone: ZoneInfo) -> str:
    return (f"Partner last active in channel: {active_at.astimezone(zone):%Y-%m-%d} "
            f"({plural(messages, 'message')} in the last 30 days)")


def _open_items(data: CardData, *, now: datetime, currency: str) -> list[dict[str, Any]]:
    """Open deal registrations and open requests, if any."""
    blocks: list[dict[str, Any]] = []
    if data.deals:
        deal_lines = [
            f"• {escape(d.customer)} · {money(d.amount, currency)} · {d.status}"
            + (f" (first registered by {escape(d.conflict_with.name)})" if d.conflict_with is not None else "")
            for d in data.deals
        ]
        blocks += lines_section(["*Open deal registrations*", *deal_lines])
    if data.requests:
        request_lines = [f"• #{r.id} *{r.team}* · {r.status} · {escape(cut(r.text, 100))} · asked {ago(r.created_at, now)}" for r in data.requests]
        blocks += lines_section(["*Open requests*", *request_lines])
    return blocks


def _recent(data: CardData, *, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The last interactions, or how to log the first one."""
    if not data.recent:
        return [section(f"*Last interactions*\nNone yet. Log one with `/partner log {escape(_ref(data.partner.name))} call …`")]
    lines = [
        f"• {i.occurred_at.astimezone(zone).strftime('%Y-%m-%d')} *{i.kind}* by {user(i.author_id)}: "
        + escape(cut(i.summary, 300))
        for i in data.recent
    ]
    return lines_section([f"*Last interactions* ({data.interaction_count:,} in all)", *lines])


def _ref(name: str) -> str:
    return f'"{name}"' if " " in name else name


def share_actions(command_text: str) -> dict[str, Any]:
    return {"type": "actions", "elements": [button("Share in channel", Action.SHARE, value=command_text)]}


def partner_modal(blocks: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """A partner card opened from App Home."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": cut(name, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [b for b in blocks if b.get("type") != "actions"][:100],
    }

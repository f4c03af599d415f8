"""Block Kit for partners: the status card, portfolio, lists, App Home."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.views.ids import Action
from bot.views.text import (
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
    more,
    section,
    user,
)
from storage.health import Health
from storage.models import Interaction, Partner

STAGE_EMOJI = {
    "prospect": ":seedling:",
    "onboarding": ":construction:",
    "active": ":large_green_circle:",
    "at-risk": ":warning:",
    "churned": ":black_circle:",
}
PAGE_SIZE = 25


def health_badge(health: Health) -> str:
    emoji = {"healthy": ":large_green_circle:", "needs attention": ":large_yellow_circle:"}.get(
        health.label, ":red_circle:"
    )
    return f"{emoji} {health.score}/100 ({health.label})"


def partner_line(partner: Partner, *, last_touch: datetime | None, now: datetime, health: Health | None = None) -> str:
    parts = [f"*{escape(partner.name)}*", partner.type]
    if partner.tier:
        parts.append(escape(partner.tier))
    parts.append(f"{STAGE_EMOJI.get(partner.stage, '')} {partner.stage}".strip())
    if health is not None:
        parts.append(f"health {health.score} ({escape(health.reasons[0])})")
    parts.append(f"last touch {ago(last_touch, now)}")
    parts.append(f"owner {user(partner.owner_id)}")
    return "• " + " · ".join(parts)


@dataclass(frozen=True)
class CardData:
    partner: Partner
    health: Health
    recent: list[Interaction]
    interaction_count: int


def partner_card(data: CardData, *, now: datetime, zone: ZoneInfo, share_text: str | None = None) -> list[dict[str, Any]]:
    p = data.partner
    blocks: list[dict[str, Any]] = [
        header(cut(p.name, 140)),
        fields(
            [
                ("Type", p.type),
                ("Tier", escape(p.tier) if p.tier else "—"),
                ("Owner", user(p.owner_id)),
                ("Stage", f"{STAGE_EMOJI.get(p.stage, '')} {p.stage}"),
                ("Health", health_badge(data.health)),
                ("Partner since", p.created_at.astimezone(zone).strftime("%Y-%m-%d")),
            ]
        ),
        context("Health: " + escape("; ".join(data.health.reasons))),
        divider(),
    ]
    if data.recent:
        lines = [
            f"• {i.occurred_at.astimezone(zone).strftime('%Y-%m-%d')} *{i.kind}* by {user(i.author_id)}: "
            + escape(cut(i.summary, 300))
            for i in data.recent
        ]
        title = f"*Last interactions* ({data.interaction_count:,} in all)"
        blocks += lines_section([title, *lines])
    else:
        blocks.append(section(f"*Last interactions*\nNone yet. Log one with `/partner log {escape(_ref(p.name))} call …`"))
    if share_text:
        blocks.append(share_actions(share_text))
    return blocks[:MAX_BLOCKS]


def _ref(name: str) -> str:
    return f'"{name}"' if " " in name else name


def share_actions(command_text: str) -> dict[str, Any]:
    return {"type": "actions", "elements": [button("Share in channel", Action.SHARE, value=command_text)]}


def portfolio(
    rows: list[tuple[Partner, datetime | None, Health]],
    *,
    owner_id: str,
    now: datetime,
    limit: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """The owner's partners, worst health first."""
    if not rows:
        return [
            section(
                f"{user(owner_id)} has no partners yet. Add one with "
                "`/partner add <name> type:channel|alliance|technology`."
            )
        ]
    ordered = sorted(rows, key=lambda r: (r[2].score, r[0].name.casefold()))
    at_risk = sum(1 for _, _, h in rows if h.label == "at risk")
    blocks = [
        header(f"Portfolio · {len(rows):,} partners"),
        context(f"Owner {user(owner_id)} · {at_risk:,} at risk · worst health first"),
    ]
    shown = ordered[:limit]
    blocks += lines_section([partner_line(p, last_touch=t, now=now, health=h) for p, t, h in shown])
    if len(ordered) > limit:
        blocks.append(more(len(ordered) - limit, "more — see them all with `/partner list owner:@you`"))
    return blocks[:MAX_BLOCKS]


def partner_list(
    rows: list[tuple[Partner, datetime | None]],
    *,
    title: str,
    now: datetime,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    next_command: str | None = None,
) -> list[dict[str, Any]]:
    total = len(rows)
    if total == 0:
        return [section(f"{escape(title)}: no partners match.")]
    pages = (total + page_size - 1) // page_size
    page = min(max(page, 1), pages)
    start = (page - 1) * page_size
    shown = rows[start : start + page_size]
    blocks = [
        section(f"*{escape(title)}* · {total:,} partners" + (f" · page {page} of {pages}" if pages > 1 else "")),
    ]
    blocks += lines_section([partner_line(p, last_touch=t, now=now) for p, t in shown])
    if page < pages:
        blocks.append(more(total - start - len(shown), "more"))
        if next_command:
            blocks.append(
                {"type": "actions", "elements": [button("Next page", Action.PAGE, value=next_command)]}
            )
    return blocks[:MAX_BLOCKS]


def home_view(rows: list[tuple[Partner, datetime | None, Health]], *, user_id: str, now: datetime) -> dict[str, Any]:
    """App Home: the user's portfolio with stage and last touch."""
    blocks: list[dict[str, Any]] = [
        header("partnerbot"),
        section(
            "Your partners, the ones needing attention first. "
            "Type `/partner help` anywhere to see what I can do."
        ),
        divider(),
    ]
    blocks += portfolio(rows, owner_id=user_id, now=now, limit=40)
    return {"type": "home", "blocks": blocks[:100]}

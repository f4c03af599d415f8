"""Block Kit for many partners: lines, portfolio, `/partner list`, App Home. One
partner's status card is views/partner_card.py; the log form views/log_form.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.slacktext import slack_to_text
from views.ids import Action
from views.text import (
    next_page,
    paginate,
    MAX_BLOCKS,
    ago,
    button,
    context,
    divider,
    escape,
    header,
    lines_section,
    more,
    section,
    user,
    plural,
)
from views.partner_card import STAGE_EMOJI, partner_card, partner_modal  # noqa: F401 (re-exported: bot/listeners/home.py)
from views.log_form import LogForm, LogSource, log_modal  # noqa: F401 (re-exported: bot/listeners/log.py)
from storage.health import Health, stored
from storage.models import Partner, Qbr

PAGE_SIZE = 25
HOME_PARTNERS = 40


def health_short(health: Health) -> str:
    """The same score, label and first reason on every line that lists partners."""
    if health.score is None:
        return f"health {health.label}"
    reason = health.reasons[0] if health.reasons else ""
    return f"health {health.score} {health.label}" + (f" ({escape(reason)})" if reason and reason != health.label else "")


def partner_line(partner: Partner, *, last_touch: datetime | None, now: datetime, health: Health | None = None) -> str:
    parts = [f"*{escape(partner.name)}*", partner.type]
    if partner.tier:
        parts.append(escape(partner.tier))
    parts.append(f"{STAGE_EMOJI.get(partner.stage, '')} {partner.stage}".strip())
    # Lists read the stored score from the row itself: one health everywhere.
    parts.append(health_short(health if health is not None else stored(partner)))
    parts.append(f"last touch {ago(last_touch, now)}")
    parts.append(f"owner {user(partner.owner_id)}")
    return "• " + " · ".join(parts)


def at_risk_count(healths: list[Health]) -> int:
    return sum(1 for h in healths if h.label == "at risk")


def same_start_question(name: str, close: list[str], command: str) -> tuple[str, list[dict[str, Any]]]:
    """`add`/`rename` of a name that starts like other partners' names (or they like
    it): nothing saved, and the way to go ahead (`command`, Slack-escaped, ends in confirm:yes)."""
    listed = ", ".join(f"*{escape(n)}*" for n in close[:5]) + (f" and {plural(len(close) - 5, 'other')}" if len(close) > 5 else "")
    offer_button = len(command) < 1900  # a button value holds at most 2,000 characters
    question = (f":question: *{escape(name)}* and {listed} start the same way, so a short name like "
                f"`{escape(min([name, *close], key=len).split(' ')[0].casefold())}` could mean either. Is it really another partner? "
                f"Nothing was saved. To go ahead, type `/partner {escape(slack_to_text(command))}`"
                + (" or click *Yes, it is another partner*." if offer_button else "."))
    blocks = [section(question)]
    if offer_button:
        # The generic "re-run this command" button (also used by Next page) runs it as the clicker.
        blocks.append({"type": "actions", "elements": [button("Yes, it is another partner", Action.PAGE, command, style="primary")]})
    return f"{name} and {', '.join(close[:5])} start the same way; nothing was saved.", blocks


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
                "`/partner add &lt;name&gt; type:channel|alliance|technology`."
            )
        ]
    ordered = sorted(rows, key=lambda r: (r[2].sort_key, r[0].name.casefold()))
    at_risk = at_risk_count([h for _, _, h in rows])
    blocks = [
        header(f"Portfolio · {plural(len(rows), 'partner')}"),
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
    total: int | None = None,
) -> list[dict[str, Any]]:
    """`rows` is every partner listed, or only the page shown when `total` counts them all."""
    shown, page, pages = paginate(rows, page, page_size, total=total)
    total = len(rows) if total is None else total
    if total == 0:
        return [section(f"{escape(title)}: no partners match.")]
    blocks = [
        section(f"*{escape(title)}* · {plural(total, 'partner')}" + (f" · page {page} of {pages}" if pages > 1 else "")),
    ]
    blocks += lines_section([partner_line(p, last_touch=t, now=now) for p, t in shown])
    if page < pages and next_command:
        blocks += next_page(f"{next_command} page:{page + 1}", remaining=total - (page - 1) * page_size - len(shown))
    return blocks[:MAX_BLOCKS]


def home_view(
    rows: list[tuple[Partner, datetime | None, Health]],
    *,
    user_id: str,
    now: datetime,
    upcoming: list[tuple[Qbr, Partner]] | None = None,
    stalled: list[tuple[Partner, str | None, int]] | None = None,
) -> dict[str, Any]:
    """App Home: the user's partners with health, next QBRs, stalled onboarding, and actions."""
    blocks: list[dict[str, Any]] = [
        header("Your partners"),
        {"type": "actions", "elements": [button("Log an interaction", Action.HOME_LOG, style="primary")]},
    ]
    if not rows:
        blocks.append(section("You own no partners yet. Add one with `/partner add &lt;name&gt; type:channel|alliance|technology`."))
    ordered = sorted(rows, key=lambda r: (r[2].sort_key, r[0].name.casefold()))
    at_risk = at_risk_count([h for _, _, h in rows])
    if rows:
        blocks.append(context(f"{plural(len(rows), 'partner')} · {at_risk:,} at risk · worst health first"))
    for partner, last_touch, health in ordered[:HOME_PARTNERS]:
        block = section(partner_line(partner, last_touch=last_touch, now=now, health=health))
        block["accessory"] = button("Open", Action.HOME_OPEN_PARTNER, str(partner.id))
        blocks.append(block)
    if len(ordered) > HOME_PARTNERS:
        blocks.append(more(len(ordered) - HOME_PARTNERS, "more — `/partner list owner:@you` shows them all"))
    if upcoming:
        lines = [f"• {q.scheduled_for:%a %b %d} *{escape(p.name)}*" for q, p in upcoming[:15]]
        blocks += [divider(), *lines_section(["*Next QBRs*", *lines])]
    if stalled:
        lines = [f"• *{escape(p.name)}* · {plural(days, 'day')} on *{escape(step or '—')}*" for p, step, days in stalled[:15]]
        blocks += [divider(), *lines_section(["*Onboarding that has stalled*", *lines])]
    blocks.append(context("Type `/partner help` anywhere to see every command."))
    return {"type": "home", "blocks": blocks[:100]}

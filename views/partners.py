"""Block Kit for partners: the status card, portfolio, lists, App Home."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from core.slacktext import slack_to_text
from views import forms
from views.ids import Action, Block, View
from views.text import (
    next_page,
    paginate,
    partner_picker,
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
    more,
    section,
    user,
    plural,
)
from storage.health import Health, stored
from storage.models import DealRegistration, HelpRequest, Interaction, OnboardingStep, Partner, Qbr
from storage.kpis import Attainment

STAGE_EMOJI = {
    "prospect": ":seedling:",
    "onboarding": ":construction:",
    "active": ":large_green_circle:",
    "at-risk": ":warning:",
    "churned": ":black_circle:",
}
PAGE_SIZE = 25
HOME_PARTNERS = 40


HEALTH_EMOJI = {"healthy": ":large_green_circle:", "needs attention": ":large_yellow_circle:", "at risk": ":red_circle:"}


def health_badge(health: Health) -> str:
    if health.score is None:
        return f":white_circle: {health.label}"
    return f"{HEALTH_EMOJI.get(health.label, ':red_circle:')} {health.score}/100 ({health.label})"


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
    next_qbr = data.next_qbr.scheduled_for.isoformat() if data.next_qbr and data.next_qbr.scheduled_for else "not scheduled"
    last_qbr = data.last_qbr.held_on.isoformat() if data.last_qbr and data.last_qbr.held_on else "none held"
    if data.last_qbr and data.last_qbr.notes and data.last_qbr.notes.strip():  # the first line of its notes
        last_qbr += f": {escape(cut(data.last_qbr.notes.strip().splitlines()[0], 120))}"
    blocks: list[dict[str, Any]] = [
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
    ]
    kpis = kpi_lines(data.attainment, currency)
    if kpis:
        blocks += lines_section([f"*KPIs {data.quarter}* vs joint business plan", *kpis])
    elif data.quarter:
        blocks.append(context(f"No KPIs for {data.quarter} yet: `/partner kpi {escape(_ref(p.name))} revenue 12.5k`, `/partner target …`"))
    if data.steps and (p.stage in ("prospect", "onboarding") or len(data.steps_done) < len(data.steps)):
        blocks.append(section(onboarding_line(data.steps, data.steps_done, zone)))
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
    blocks.append(divider())
    if data.recent:
        lines = [
            f"• {i.occurred_at.astimezone(zone).strftime('%Y-%m-%d')} *{i.kind}* by {user(i.author_id)}: "
            + escape(cut(i.summary, 300))
            for i in data.recent
        ]
        blocks += lines_section([f"*Last interactions* ({data.interaction_count:,} in all)", *lines])
    else:
        blocks.append(section(f"*Last interactions*\nNone yet. Log one with `/partner log {escape(_ref(p.name))} call …`"))
    if share_text:
        blocks.append(share_actions(share_text))
    return blocks[:MAX_BLOCKS]


def _ref(name: str) -> str:
    return f'"{name}"' if " " in name else name


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


class LogSource(BaseModel):
    """private_metadata of the log modal: the message it was opened on, if any."""

    link: str | None = None
    author: str | None = None

    def note(self) -> str | None:
        """The line stored under the summary that says where it came from."""
        author = f" by <@{self.author}>" if self.author else ""
        return f"(from a Slack message{author}: {self.link})" if self.link else None


@dataclass(frozen=True)
class LogForm:
    """What the "Log to partner" form sends back, with the message it was opened on."""

    partner_id: str
    kind: str
    text: str
    day: str | None
    source: LogSource

    @classmethod
    def read(cls, view: dict[str, Any]) -> LogForm:
        return cls(forms.chosen(view, Block.PARTNER, Action.PARTNER_PICK), forms.chosen(view, Block.KIND),
                   forms.typed(view, Block.TEXT), forms.day(view, Block.DATE),
                   LogSource.model_validate_json(view.get("private_metadata") or "{}"))


def log_modal(*, summary: str = "", source: LogSource | None = None, today: str | None = None) -> dict[str, Any]:
    """Log an interaction: partner picker, kind, summary, date. Input values are not escaped."""
    kinds = ["call", "meeting", "email", "note", "training", "demo"]
    options = [{"text": {"type": "plain_text", "text": k}, "value": k} for k in kinds]
    date_element: dict[str, Any] = {"type": "datepicker", "action_id": Action.INPUT}
    if today:
        date_element["initial_date"] = today
    summary_element: dict[str, Any] = {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": True, "max_length": 3000}
    if summary:
        summary_element["initial_value"] = summary[:3000]
    return {
        "type": "modal",
        "callback_id": View.LOG,
        "private_metadata": (source or LogSource()).model_dump_json(exclude_none=True)[:3000],
        "title": {"type": "plain_text", "text": "Log to partner"},
        "submit": {"type": "plain_text", "text": "Log"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            partner_picker(),
            {
                "type": "input",
                "block_id": Block.KIND,
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {"type": "static_select", "action_id": Action.INPUT, "options": options, "initial_option": options[3]},
            },
            {"type": "input", "block_id": Block.TEXT, "label": {"type": "plain_text", "text": "Summary"}, "element": summary_element},
            {"type": "input", "block_id": Block.DATE, "label": {"type": "plain_text", "text": "When"}, "element": date_element},
        ],
    }


def partner_modal(blocks: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """A partner card opened from App Home."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": cut(name, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [b for b in blocks if b.get("type") != "actions"][:100],
    }

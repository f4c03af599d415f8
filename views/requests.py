"""Block Kit for cross-functional requests: the team-channel message, DMs, lists, modals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import RootModel, ValidationError

from core.messenger import SHARED
from views import forms
from views.ids import Action, Block, View
from views.messages import error_blocks
from views.text import next_page, paginate, partner_picker, MAX_BLOCKS, ago, button, context, cut, escape, lines_section, section, user
from storage.models import HelpRequest, Partner, RequestStatus

STATUS_EMOJI = {"open": ":large_orange_circle:", "claimed": ":large_blue_circle:", "resolved": ":white_check_mark:"}


def partner_summary(p: Partner) -> str:
    tier = f", {escape(p.tier)}" if p.tier else ""
    return f"*{escape(p.name)}* ({p.type}{tier}, owner {user(p.owner_id)})"


def status_line(r: HelpRequest, now: datetime) -> str:
    if r.status == RequestStatus.RESOLVED and r.resolved_by and r.resolved_at:
        by_other = r.claimed_by and r.claimed_by != r.resolved_by
        extra = f" (claimed by {user(r.claimed_by)})" if by_other else ""
        return f"{STATUS_EMOJI['resolved']} Resolved by {user(r.resolved_by)} {ago(r.resolved_at, now)}{extra}"
    if r.status == RequestStatus.CLAIMED and r.claimed_by and r.claimed_at:
        return f"{STATUS_EMOJI['claimed']} Claimed by {user(r.claimed_by)} {ago(r.claimed_at, now)}"
    return f"{STATUS_EMOJI['open']} Open · waiting for someone to claim it"


def request_message(r: HelpRequest, partner: Partner, *, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """The message in the team channel; rebuilt in place on every transition."""
    due = f" · due {r.due_on}" if r.due_on else ""
    blocks: list[dict[str, Any]] = [
        section(f":inbox_tray: *{r.team.capitalize()} request #{r.id}* for {partner_summary(partner)}"
                + (f" · asked by the partner in <#{r.partner_channel_id}>" if r.from_partner else "")),
        section(">" + escape(cut(r.text, 2800)).replace("\n", "\n>")),
        context(f"Asked by {user(r.requester_id)} {ago(r.created_at, now)}{due} · {status_line(r, now)}"),
    ]
    if r.status == RequestStatus.RESOLVED and r.resolution:
        blocks.append(section("*Resolution:* " + escape(cut(r.resolution, 2800))))
    if r.status != RequestStatus.RESOLVED:
        value = str(r.id)
        elements = []
        if r.status == RequestStatus.OPEN:
            elements.append(button("Claim", Action.REQUEST_CLAIM, value, style="primary"))
        # A partner's own request: the Resolve form offers to send the resolution to the partner.
        resolve = f"{value}{PARTNER_ASKED}" if r.from_partner else value
        elements += [button("Resolve", Action.REQUEST_RESOLVE, resolve), button("Add note", Action.REQUEST_NOTE, value)]
        blocks.append({"type": "actions", "block_id": f"request-{r.id}", "elements": elements})
    text = f"{r.team.capitalize()} request #{r.id} for {partner.name}: {cut(r.text, 200)}"
    return escape(text), blocks


OPEN_REQUEST = "Open the request in the team channel"  # the DM's link to the request's message


def requester_dm(r: HelpRequest, partner: Partner, *, event: str, link: str | None, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """A DM that repeats the essentials rather than only linking."""
    verbs = {
        "claimed": f"{user(r.claimed_by or '')} claimed your {r.team} request #{r.id}",
        "resolved": f"{user(r.resolved_by or '')} resolved your {r.team} request #{r.id}",
        "note": f"New note on your {r.team} request #{r.id}",
    }
    headline = verbs[event] + f" for *{escape(partner.name)}*."
    blocks = [section(headline), section(">" + escape(cut(r.text, 1500)).replace("\n", "\n>"))]
    if event == "resolved" and r.resolution:
        blocks.append(section("*Resolution:* " + escape(cut(r.resolution, 2000))))
    if link:
        blocks.append(context(f"<{link}|{OPEN_REQUEST}>"))
    text = f"{r.team.capitalize()} request #{r.id} for {partner.name} was {event}."
    return escape(text), blocks


REQUESTS_PAGE = 30


def request_list(
    requests: list[HelpRequest], *, title: str, now: datetime, page: int = 1, page_size: int = REQUESTS_PAGE,
    next_command: str | None = None, total: int | None = None,
) -> list[dict[str, Any]]:
    """`requests` is every request listed, or only the page shown when `total` counts them all."""
    shown, page, pages = paginate(requests, page, page_size, total=total)
    total = len(requests) if total is None else total
    if not total:
        return [section(f"*{escape(title)}*: none. :tada:")]
    lines = [f"*{escape(title)}* · {total:,}" + (f" · page {page} of {pages}" if pages > 1 else "")]
    for r in shown:
        who = f" · claimed by {user(r.claimed_by)}" if r.claimed_by and r.status == "claimed" else ""
        lines.append(
            f"{STATUS_EMOJI.get(r.status, '')} #{r.id} *{r.team}* · {escape(r.partner.name)} · "
            f"{escape(cut(r.text, 120))} · asked {ago(r.created_at, now)} by {user(r.requester_id)}{who}"
        )
    blocks = lines_section(lines)
    if page < pages and next_command:
        blocks += next_page(f"{next_command} page:{page + 1}", remaining=total - (page - 1) * page_size - len(shown))
    return blocks[:MAX_BLOCKS]


def route_table(routes: dict[str, str], *, slas: dict[str, int], default_sla: int, business_hours: str,
                holidays: list[str]) -> list[dict[str, Any]]:
    """Each team's channel and SLA, and the clock the SLAs run on."""
    closed = f"; closed on {escape(', '.join(holidays))} holidays" if holidays else ""
    clock = context(f"SLAs count business hours: {escape(business_hours)}{closed}. "
                    f"Set a team's own with `/partner route legal #legal-requests sla:48h`.")
    if not routes:
        return [section("No team has a channel yet. An admin sets one with `/partner route legal #legal-requests`."), clock]
    lines = ["*Where requests go*"] + [
        f"• *{team}* → <#{channel}> · SLA {slas[team]} h" if team in slas else
        f"• *{team}* → <#{channel}> · SLA {default_sla} h (default)" for team, channel in routes.items()]
    return [*lines_section(lines), clock]


class RequestRef(RootModel[int]):
    """private_metadata of the note and resolve forms: the request they act on,
    written as its bare number (as forms already open in Slack carry it)."""

    model_config = {"strict": True}

    @classmethod
    def read(cls, raw: str) -> int:
        """The request's number; 0 (no request) when the metadata is not one."""
        try:
            return cls.model_validate_json(raw or "null").root
        except ValidationError:
            return 0


@dataclass(frozen=True)
class TextForm:
    """What the note and resolve forms send back (`to_partner`: the resolver ticked
    "Send this resolution to the partner")."""

    request_id: int
    text: str
    to_partner: bool = False

    @classmethod
    def read(cls, view: dict[str, Any]) -> TextForm:
        return cls(RequestRef.read(view.get("private_metadata") or ""), forms.typed(view, Block.TEXT),
                   forms.ticked(view, Block.TO_PARTNER))


# Marks a Resolve button's value on a request a partner asked from its channel (the form's layout only).
PARTNER_ASKED = ":partner"
TO_PARTNER = "send"


def text_modal(callback_id: View, *, title: str, label: str, request_id: int, optional: bool, submit: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": RequestRef(request_id).model_dump_json(),
        "title": {"type": "plain_text", "text": cut(title, 24)},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": Block.TEXT,
                "optional": optional,
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": True, "max_length": 2500},
            }
        ],
    }


def note_modal(request_id: int) -> dict[str, Any]:
    return text_modal(View.REQUEST_NOTE, title=f"Note on request #{request_id}", label="Note", request_id=request_id, optional=False, submit="Add note")


def resolve_modal(request_id: int, *, partner_asked: bool = False) -> dict[str, Any]:
    modal = text_modal(View.REQUEST_RESOLVE, title=f"Resolve request #{request_id}", label="Resolution (optional)",
                       request_id=request_id, optional=True, submit="Resolve")
    if partner_asked:
        modal["blocks"].append({
            "type": "input", "block_id": Block.TO_PARTNER, "optional": True,
            "label": {"type": "plain_text", "text": "The partner asked this in its channel"},
            "element": {"type": "checkboxes", "action_id": Action.INPUT, "options": [{
                "text": {"type": "plain_text", "text": "Send this resolution to the partner"}, "value": TO_PARTNER}]},
            "hint": {"type": "plain_text", "text": "Off: the partner only sees that it is resolved."},
        })
    return modal


@dataclass(frozen=True)
class AskForm:
    """What the "Ask a team" form sends back (it carries no private_metadata)."""

    team: str
    partner_id: str
    text: str
    due: str | None

    @classmethod
    def read(cls, view: dict[str, Any]) -> AskForm:
        # The team is a select once the teams are loaded, a text input before.
        team = forms.chosen(view, Block.TEAM) or forms.typed(view, Block.TEAM)
        return cls(team, forms.chosen(view, Block.PARTNER, Action.PARTNER_PICK), forms.typed(view, Block.TEXT),
                   forms.day(view, Block.DUE))


def ask_modal(teams: list[str] | None = None) -> dict[str, Any]:
    """The "Ask a team" modal. Opened at once with no teams (a trigger_id lives
    3 seconds), then updated with the routed teams from the database."""
    if teams:
        team_element: dict[str, Any] = {
            "type": "static_select",
            "action_id": Action.INPUT,
            "placeholder": {"type": "plain_text", "text": "Pick a team"},
            "options": [{"text": {"type": "plain_text", "text": t}, "value": t} for t in teams[:100]],
        }
    else:
        team_element = {"type": "plain_text_input", "action_id": Action.INPUT, "placeholder": {"type": "plain_text", "text": "Loading teams…"}}
    return {
        "type": "modal",
        "callback_id": View.ASK,
        "title": {"type": "plain_text", "text": "Ask a team"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": Block.TEAM, "label": {"type": "plain_text", "text": "Team"}, "element": team_element},
            partner_picker(),
            {
                "type": "input",
                "block_id": Block.TEXT,
                "label": {"type": "plain_text", "text": "What does the partner need?"},
                "element": {"type": "plain_text_input", "action_id": Action.INPUT, "multiline": True, "max_length": 2500},
            },
            {
                "type": "input",
                "block_id": Block.DUE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Needed by"},
                "element": {"type": "datepicker", "action_id": Action.INPUT},
            },
        ],
    }


def partner_options(names: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": cut(name, 75)}, "value": str(pid)} for pid, name in names[:100]]


def request_note(author_id: str, note: str) -> tuple[str, list[dict[str, Any]]]:
    """A note added to a request, posted in the thread of the request's message."""
    return f"Note from {user(author_id)}: {escape(note)}", [section(f":memo: {user(author_id)}: {escape(note)}")]


def request_not_posted(request: HelpRequest, channel: str, error: str) -> tuple[str, list[dict[str, Any]]]:
    """The requester's answer when the team channel took no post: why, and **Post again**."""
    if error == SHARED:
        why = (
            f"<#{channel}> is shared with another organisation, so I didn't post your {request.team} request "
            f"*#{request.id}* there: partner data stays in your own channels. Ask an admin to "
            f"`/partner route {request.team} #an-internal-channel`, then click *Post again*."
        )
    elif error in ("not_in_channel", "channel_not_found"):
        why = (
            f"I'm not in <#{channel}>, so I couldn't post your {request.team} request *#{request.id}* there. "
            f"Invite me with `/invite @partnerbot` in that channel (or ask an admin to `/partner route {request.team} #channel`), "
            "then click *Post again*."
        )
    else:
        why = f"Slack refused the post (`{escape(error)}`). Your request *#{request.id}* is saved; click *Post again* in a minute."
    blocks = error_blocks(why) + [
        {"type": "actions", "elements": [button("Post again", Action.REQUEST_REPOST, str(request.id), style="primary")]}
    ]
    return f"Request #{request.id} is saved but not posted yet.", blocks

"""The partner desk in a partner channel: Register a deal, Ask for help, Our scorecard,
and the desk's two forms.

Who may use it, and for which partner, is decided at the door (bot/access.py) from
Slack's records and the channel's link — never from a button value or form field. A
form's submission does not say which channel it came from, so the channel and partner
are kept server-side when the form is opened (desk_forms), checked against the
submitter, and the door is decided again on submission (the link or the sharing may
have changed meanwhile)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import ACK_BUDGET, OUTSIDER
from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import desk, scorecard
from storage import desk_forms
from storage.db import unit_of_work
from views.ids import Action, Block, View
from views.messages import notice_modal
from views.partner_facing import DealForm, HelpForm, deal_modal, help_modal

log = logging.getLogger(__name__)
FORMS = {Action.DESK_DEAL: ("deal", "Register a deal"), Action.DESK_HELP: ("help", "Ask for help")}


def open_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, actor: Actor) -> None:
    ack()
    kind, title = FORMS[Action(action["action_id"])]
    # views.open first (a trigger_id lives 3 seconds): the empty form holds nothing of ours.
    if (view_id := _open(client, body, kind, actor.deps.settings.currency)) is None:
        return
    door = actor.at_partner_door(actor.caller.channel_id)
    if door.refusal is not None or door.partner_id is None:
        client.views_update(view_id=view_id, view=notice_modal(title, door.refusal or OUTSIDER))
        return
    with unit_of_work() as session:
        desk_forms.remember(session=session, view_id=view_id, kind=kind, partner_id=door.partner_id,
                            channel_id=door.channel_id or "", user_id=actor.caller.user_id, team_id=door.team_id,
                            now=datetime.now(timezone.utc))


def _open(client: WebClient, body: dict[str, Any], kind: str, currency: str) -> str | None:
    try:
        opened = client.views_open(trigger_id=body["trigger_id"], view=deal_modal(currency) if kind == "deal" else help_modal())
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        return None
    return opened["view"]["id"]


def show_scorecard(ack: Ack, respond: Respond, actor: Actor) -> None:
    ack()
    door = actor.at_partner_door(actor.caller.channel_id)
    reply = actor.run_at_door(door, lambda ctx: scorecard.show(ctx, door.partner_id or 0), read_only=True)
    answers.send(respond, reply)


def _submitted(ack: Ack, view: dict[str, Any], actor: Actor, kind: str, work) -> None:
    """A desk form came back: the channel and partner it was opened for, re-checked now."""
    view_id = view.get("id") or ""
    with unit_of_work(read_only=True) as session:
        opened = desk_forms.opened(session=session, view_id=view_id, kind=kind, user_id=actor.caller.user_id,
                                   now=datetime.now(timezone.utc))
    channel = opened.channel_id if opened else None
    door = actor.at_partner_door(channel, budget=ACK_BUDGET) if channel else None
    if door is None or door.refusal is not None or door.partner_id != (opened.partner_id if opened else None):
        why = door.refusal if door is not None and door.refusal else desk.CLOSED
        ack(response_action="errors", errors={_first_block(kind): why[:answers.FORM_ERROR]})
        return
    answers.door_form(ack, actor, door, lambda ctx: work(ctx, door.partner_id), first_block=_first_block(kind))


def _first_block(kind: str) -> str:
    return Block.CUSTOMER if kind == "deal" else Block.TEXT


def deal_submitted(ack: Ack, view: dict[str, Any], actor: Actor) -> None:
    form = DealForm.read(view)
    _submitted(ack, view, actor, "deal", lambda ctx, partner_id: desk.register_deal(ctx, partner_id, form))


def help_submitted(ack: Ack, view: dict[str, Any], actor: Actor) -> None:
    form = HelpForm.read(view)
    view_id = view.get("id")
    _submitted(ack, view, actor, "help", lambda ctx, partner_id: desk.ask_help(ctx, partner_id, form, view_id=view_id))


def register(app: App) -> None:
    app.action(Action.DESK_DEAL)(open_form)
    app.action(Action.DESK_HELP)(open_form)
    app.action(Action.DESK_SCORECARD)(show_scorecard)
    app.view(View.DESK_DEAL)(deal_submitted)
    app.view(View.DESK_HELP)(help_submitted)

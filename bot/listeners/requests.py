"""A request's buttons (Claim, Resolve, Add note, Post again), its note and resolve
forms, and the "Ask a team" shortcut and form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import ask, request_actions
from commands.parser import typed_text
from storage import requests
from storage.db import unit_of_work
from views.ids import Action, Shortcut, View
from views.requests import PARTNER_ASKED, AskForm, TextForm, ask_modal, note_modal, resolve_modal

log = logging.getLogger(__name__)
FORM_FAILED = "Slack did not open the form in time. Click the button again."


def open_text_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
    ack()
    # views.open before anything else: the trigger_id expires 3 seconds after
    # the click. Who may submit is decided when the form comes back.
    value = action.get("value", "")
    number, partner_asked = value.removesuffix(PARTNER_ASKED), value.endswith(PARTNER_ASKED)
    rid = int(number) if number.isdigit() else 0
    modal = note_modal(rid) if action["action_id"] == Action.REQUEST_NOTE else resolve_modal(rid, partner_asked=partner_asked)
    try:
        client.views_open(trigger_id=body["trigger_id"], view=modal)
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        respond(response_type="ephemeral", replace_original=False, text=FORM_FAILED)


def claim(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    value = action.get("value", "")
    answers.send(respond, actor.run(lambda ctx: request_actions.claim(ctx, request_actions.request_id(value))))


def post_again(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    value = action.get("value", "")
    answers.send(respond, actor.run(lambda ctx: request_actions.repost(ctx, request_actions.request_id(value))))


def note_submitted(ack: Ack, view: dict[str, Any], actor: Actor) -> None:
    form = TextForm.read(view)
    answers.form(ack, actor, lambda ctx: request_actions.add_note(ctx, form.request_id, typed_text(form.text)))


def resolve_submitted(ack: Ack, view: dict[str, Any], actor: Actor) -> None:
    form = TextForm.read(view)
    answers.form(ack, actor, lambda ctx: request_actions.resolve(ctx, form.request_id, typed_text(form.text) or None,
                                                                 to_partner=form.to_partner))


def ask_shortcut(ack: Ack, body: dict[str, Any], client: WebClient, actor: Actor) -> None:
    ack()
    # views.open first (the trigger_id lives 3 seconds); the teams only after the access check.
    opened = client.views_open(trigger_id=body["trigger_id"], view=ask_modal())
    if answers.notice(client, opened, "Ask a team", actor):
        return
    with unit_of_work(read_only=True) as session:
        teams = list(requests.routes(session=session, defaults=actor.deps.settings.routes))
    client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=ask_modal(teams))


def ask_submitted(ack: Ack, view: dict[str, Any], actor: Actor) -> None:
    form = AskForm.read(view)
    final = answers.form(ack, actor, lambda ctx: ask.from_form(ctx, form, view_id=view.get("id")))
    answers.dm(actor, final)


def register(app: App) -> None:
    app.action(Action.REQUEST_NOTE)(open_text_form)
    app.action(Action.REQUEST_RESOLVE)(open_text_form)
    app.action(Action.REQUEST_CLAIM)(claim)
    app.action(Action.REQUEST_REPOST)(post_again)
    app.view(View.REQUEST_NOTE)(note_submitted)
    app.view(View.REQUEST_RESOLVE)(resolve_submitted)
    app.shortcut(Shortcut.ASK)(ask_shortcut)
    app.view(View.ASK)(ask_submitted)

"""Approve and Reject on a registered deal (a conflict, or a partner's own submission,
whose rejection asks for the reason the partner will see)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners import answers
from bot.verify import allowed_response_url
from bot.listeners.actor import Actor
from commands import deal
from commands.parser import typed_text
from views import forms
from views.deals import reject_modal
from views.ids import Action, Block, View

log = logging.getLogger(__name__)


def _deal_id(value: str) -> int:
    return int(value) if value.isdigit() else 0


def decide(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    deal_id = _deal_id(action.get("value", ""))
    approve = action["action_id"] == Action.DEAL_APPROVE
    answers.send(respond, actor.run(lambda ctx: deal.decide(ctx, deal_id, approve=approve)))


def ask_reason(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """Reject on a partner's submission: views.open first (a trigger_id lives 3 seconds);
    who may reject is decided when the form comes back. The clicked message's reply URL
    is kept in the form, to show the decision in its place."""
    ack()
    where = body.get("response_url") or ""
    try:
        client.views_open(trigger_id=body["trigger_id"], view=reject_modal(_deal_id(action.get("value", "")), where))
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        respond(response_type="ephemeral", replace_original=False, text="Slack did not open the form in time. Click Reject again.")


def reason_given(ack: Ack, view: dict[str, Any], actor: Actor) -> None:
    deal_id, _, clicked = (view.get("private_metadata") or "").partition("|")
    reason = typed_text(forms.typed(view, Block.TEXT)) or None
    final = answers.form(ack, actor, lambda ctx: deal.decide(ctx, _deal_id(deal_id), approve=False, reason=reason))
    # The message clicked now shows the decision in its place, as after Approve (Slack's own reply URLs only).
    if final is not None and not final.error and allowed_response_url(clicked, actor.deps.settings.slack_api_url):
        Respond(response_url=clicked)(**final.payload())


def register(app: App) -> None:
    app.action(Action.DEAL_APPROVE)(decide)
    app.action(Action.DEAL_REJECT)(decide)
    app.action(Action.DEAL_REJECT_REASON)(ask_reason)
    app.view(View.DEAL_REJECT)(reason_given)

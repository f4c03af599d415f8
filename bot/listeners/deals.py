"""Approve and Reject on a registered deal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import deal
from views.ids import Action


def decide(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    value = action.get("value", "")
    deal_id = int(value) if value.isdigit() else 0
    approve = action["action_id"] == Action.DEAL_APPROVE
    answers.send(respond, actor.run(lambda ctx: deal.decide(ctx, deal_id, approve=approve)))


def register(app: App) -> None:
    app.action(Action.DEAL_APPROVE)(decide)
    app.action(Action.DEAL_REJECT)(decide)

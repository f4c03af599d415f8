"""The QBR brief's **Share scorecard with partner**: posts the partner-facing scorecard in
the partner's linked channel, exactly as `/partner scorecard <partner>` does."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import scorecard
from views.ids import Action


def share_scorecard(ack: Ack, action: dict[str, Any], respond: Respond, actor: Actor) -> None:
    ack()
    value = action.get("value", "")
    partner_id = int(value) if value.isdigit() else 0
    answers.send(respond, actor.run(lambda ctx: scorecard.share(ctx, partner_id)))


def register(app: App) -> None:
    app.action(Action.BRIEF_SHARE_SCORECARD)(share_scorecard)

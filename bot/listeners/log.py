"""The "Log to partner" message shortcut, the Log button on App Home, and their form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import log as log_command
from commands.parser import slack_to_text
from views.ids import Action, Shortcut, View
from views.partners import LogForm, LogSource, log_modal


def open_log_form(ack: Ack, body: dict[str, Any], client: WebClient, actor: Actor) -> None:
    ack()
    message = body.get("message") or {}
    source = LogSource(link=permalink(body), author=message.get("user"))
    today = datetime.now(actor.deps.settings.zone).date().isoformat()
    opened = client.views_open(trigger_id=body["trigger_id"], view=log_modal(
        summary=slack_to_text(message.get("text", "")), source=source, today=today))
    # The form holds only what the clicker already sees; still, an outsider gets the refusal instead.
    answers.notice(client, opened, "Log to partner", actor)


def permalink(body: dict[str, Any]) -> str | None:
    """The message's permalink, composed here: no API call before views.open or the form's ack."""
    message = body.get("message") or {}
    channel, domain = (body.get("channel") or {}).get("id"), (body.get("team") or {}).get("domain")
    if not (channel and domain and message.get("ts")):
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{message['ts'].replace('.', '')}"


def log_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], actor: Actor) -> None:
    form = LogForm.read(view)
    # A submission Slack delivers twice is stored once, keyed by the view.
    dedupe_key = view.get("id") or body.get("trigger_id", "")
    answers.form(ack, actor, lambda ctx: log_command.from_form(ctx, form, dedupe_key=dedupe_key))


def register(app: App) -> None:
    app.shortcut(Shortcut.LOG)(open_log_form)
    app.action(Action.HOME_LOG)(open_log_form)
    app.view(View.LOG)(log_submitted)

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
from storage import partners
from storage.db import unit_of_work
from views.ids import Action, Shortcut, View
from views.partners import LogForm, LogSource, log_modal


def open_log_form(ack: Ack, body: dict[str, Any], client: WebClient, actor: Actor) -> None:
    ack()
    message = body.get("message") or {}
    form = {"summary": slack_to_text(message.get("text", "")), "source": LogSource(link=permalink(body), author=message.get("user")),
            "today": datetime.now(actor.deps.settings.zone).date().isoformat()}
    opened = client.views_open(trigger_id=body["trigger_id"], view=log_modal(**form))
    # The form holds only what the clicker already sees; still, an outsider gets the refusal instead.
    if answers.notice(client, opened, "Log to partner", actor):
        return
    # Only now, for someone partnerbot serves: the partner whose channel this is, chosen for them.
    if (partner := linked_partner(body)) is not None:
        client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"), view=log_modal(**form, partner=partner))


def linked_partner(body: dict[str, Any]) -> tuple[int, str] | None:
    """(id, name) of the live partner linked to the channel of the message (a shortcut's), if any."""
    channel = (body.get("channel") or {}).get("id")
    if not channel:
        return None
    with unit_of_work(read_only=True) as session:
        partner = partners.linked_to(session=session, channel_id=channel)
        return (partner.id, partner.name) if partner is not None else None


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

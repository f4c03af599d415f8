"""App Home, and the Open button on its partners."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.listeners import answers
from bot.listeners.actor import Actor
from commands import home as home_page
from commands import status
from core.settings import Settings
from storage import partners
from storage.db import unit_of_work
from views.ids import Action
from views.partners import partner_card, partner_modal
from views.text import section


def home_opened(event: dict[str, Any], client: WebClient, actor: Actor) -> None:
    if event.get("tab") != "home" or answers.home(client, actor):
        return
    user_id = actor.caller.user_id
    now, settings = datetime.now(timezone.utc), actor.deps.settings
    with unit_of_work(read_only=True) as session:
        view = home_page.page(session, user_id=user_id, now=now, settings=settings)
    client.views_publish(user_id=user_id, view=view)


def open_partner(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, actor: Actor) -> None:
    ack()
    opened = client.views_open(trigger_id=body["trigger_id"], view=partner_modal([section("Loading…")], "Partner"))
    if answers.notice(client, opened, "Partner", actor):
        return
    with unit_of_work(read_only=True) as session:
        view = card(session, int(action.get("value") or 0), actor.deps.settings)
    client.views_update(view_id=opened["view"]["id"], view=view)


def card(session: Session, partner_id: int, settings: Settings) -> dict[str, Any]:
    """The partner's card as a modal, or a line saying it is gone."""
    now = datetime.now(timezone.utc)
    partner = partners.get(session=session, partner_id=partner_id)
    if partner is None:
        return partner_modal([section("That partner no longer exists.")], "Partner")
    data = status.card_data(session, partner, now=now, settings=settings)
    return partner_modal(partner_card(data, now=now, zone=settings.zone, currency=settings.currency), partner.name)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    app.action(Action.HOME_OPEN_PARTNER)(open_partner)

"""Suggestions for the partner picker in forms (external select): never archived partners."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.listeners import answers
from bot.listeners.actor import Actor
from storage import partners
from storage.db import unit_of_work
from storage.names import name_key
from views.ids import Action
from views.requests import partner_options


def partner_suggestions(ack: Ack, payload: dict[str, Any], actor: Actor) -> None:
    query = name_key(payload.get("value", ""))
    answers.options(ack, actor, lambda: suggestions(query))


def suggestions(query: str) -> list[dict[str, Any]]:
    if not query:
        return []
    with unit_of_work(read_only=True) as session:
        found = partners.by_prefix(session=session, prefix=query, limit=50, include_archived=False)
        return partner_options([(p.id, p.name) for p in found])


def register(app: App) -> None:
    app.options(Action.PARTNER_PICK)(partner_suggestions)

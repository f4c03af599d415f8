"""Run one `/partner` line inside the one session scope; shared by Slack and the console."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.settings import Settings
from commands import Caller, Context, Reply, UserError, error_reply, handle
from storage.db import unit_of_work


def run_command(text: str, *, caller: Caller, settings: Settings, now: datetime | None = None) -> Reply:
    """The reply to `text`. A UserError rolls the unit of work back: nothing is half-written."""
    try:
        with unit_of_work() as session:
            return handle(text, Context(session, caller, settings, now or datetime.now(timezone.utc)))
    except UserError as error:
        return error_reply(error)

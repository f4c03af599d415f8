"""Run a command or an action inside the one session scope; shared by Slack and the console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from core.settings import Settings
from commands import Caller, Context, Reply, UserError, error_reply, handle, is_read_only
from core.messenger import Messenger
from jobs import webhook_delivery
from storage.db import unit_of_work


def run(
    work: Callable[[Context], Reply | None],
    *,
    caller: Caller,
    settings: Settings,
    slack: Messenger,
    now: datetime | None = None,
    follow_up: bool = True,
    read_only: bool = False,
) -> Reply | None:
    """`work` in a unit of work, then its Slack follow-up once committed.

    A UserError rolls the unit of work back (nothing is half-written) and
    becomes the reply; anything else is a bug and propagates to the error handler.
    With `follow_up=False` the caller runs `reply.after` itself (after an ack).
    """
    try:
        with unit_of_work(read_only=read_only) as session:
            reply = work(Context(session, caller, settings, now or datetime.now(timezone.utc), slack))
        if settings.webhooks:
            webhook_delivery.kick(settings)
        if follow_up and reply is not None and reply.after is not None:
            reply = reply.after()
        return reply
    except UserError as error:
        return error_reply(error)


def run_command(text: str, *, caller: Caller, settings: Settings, slack: Messenger, now: datetime | None = None) -> Reply:
    reply = run(lambda ctx: handle(text, ctx), caller=caller, settings=settings, slack=slack, now=now,
                read_only=is_read_only(text))
    assert reply is not None
    return reply

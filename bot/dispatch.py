"""Run a command or an action inside the one session scope; shared by Slack and the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

from commands import Caller, Context, Reply, UserError, error_reply, handle, is_read_only
from core.messenger import Messenger
from core.settings import Settings
from jobs import delivery, webhook_delivery
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
    """`work` in a unit of work, its outbox claimed in the same transaction, then
    delivered once committed (`follow_up`; else the caller calls `follow`, after an ack).

    A UserError rolls the unit of work back (nothing is half-written) and
    becomes the reply; anything else is a bug and propagates to the error handler.
    """
    now = now or datetime.now(timezone.utc)
    try:
        with unit_of_work(read_only=read_only) as session:
            reply = work(Context(session, caller, settings, now, slack))
            if reply is not None and reply.outbox:
                reply.claimed = delivery.claim_all(reply.outbox, session=session, now=now)
        if settings.webhooks:
            webhook_delivery.kick(settings)
        return follow(reply, slack=slack, now=now) if follow_up else reply
    except UserError as error:
        return error_reply(error)


def follow(reply: Reply | None, *, slack: Messenger, now: datetime) -> Reply | None:
    """Deliver a committed reply's outbox through the one sender and build the final reply
    from the outcomes; that reply may send more (each round is claimed, then sent)."""
    sender = delivery.Sender(slack)
    while reply is not None and reply.outbox:
        owned = reply.claimed
        if owned is None:
            with unit_of_work() as session:
                owned = delivery.claim_all(reply.outbox, session=session, now=now)
        outcomes = delivery.send_claimed(reply.outbox, owned, sender=sender, now=now)
        reply = reply.then(outcomes) if reply.then else replace(reply, outbox=[], claimed=None)
    return reply


def run_command(text: str, *, caller: Caller, settings: Settings, slack: Messenger, now: datetime | None = None) -> Reply:
    reply = run(lambda ctx: handle(text, ctx), caller=caller, settings=settings, slack=slack, now=now,
                read_only=is_read_only(text))
    assert reply is not None
    return reply

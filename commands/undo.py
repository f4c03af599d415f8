"""`/partner undo`: reverse the caller's last change made within 10 minutes."""

from __future__ import annotations

from bot.views.messages import confirmation
from bot.views.text import escape
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command
from storage import audit

USAGE = "undo"
DESCRIPTION = "reverse your last change (within 10 minutes); deals and requests are not undone"


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    if index < len(cmd.tokens):
        raise UserError("`undo` takes nothing after it: it reverses your last change.", usage=USAGE)
    change = audit.last_change(session=ctx.session, user_id=ctx.caller.user_id, now=ctx.now)
    if change is None:
        raise UserError("You have no change from the last 10 minutes to undo.")
    audit.undo(session=ctx.session, change=change, now=ctx.now)
    return Reply(text=f"Undone: {change.summary}.", blocks=confirmation(f"Undone: {escape(change.summary)}."))

"""`/partner undo`: reverse the caller's last change, made within 10 minutes, or say why not.

It never skips over a newer change: when the last one cannot be undone, nothing is."""

from __future__ import annotations

from views.messages import confirmation
from views.text import ago, escape, user
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command
from storage import audit
from storage.models import Change

USAGE = "undo"
DESCRIPTION = "reverse your last change (within 10 minutes); deals, reassignments and requests are not undone"
WINDOW_MINUTES = int(audit.UNDO_WINDOW.total_seconds() // 60)


def irreversible_hint(change: Change) -> str:
    """How to put things back by hand, as mrkdwn."""
    values = audit.data(change)
    if change.kind == "partners.reassign":
        return f"reassign back with `/partner reassign` {user(values['to'])} {user(values['from'])}"
    if change.kind == "deal.register":
        return f"deal registrations stay on record (an admin decides any conflict on deal #{values['deal_id']})"
    if change.kind == "deal.decide":
        return f"the decision on deal #{values['deal_id']} stands"
    return "it stays as it is"


LABELS = {"partners.reassign": "reassign", "deal.register": "deal registration", "deal.decide": "deal decision"}


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    if index < len(cmd.tokens):
        raise UserError("`undo` takes nothing after it: it reverses your last change.", usage=USAGE)
    session, me = ctx.session, ctx.caller.user_id
    change = audit.last_change(session=session, user_id=me)
    since = change.at if change else None
    request = audit.newer_request(session=session, user_id=me, since=since) if since else None
    if request is not None:
        req, verb = request
        raise UserError(f"Your last change was request #{req.id} to {escape(req.team)}, which you {verb}; "
                        "requests can't be undone, so nothing was changed.")
    if change is None:
        previous = audit.last_undone(session=session, user_id=me)
        if previous is None:
            raise UserError("You have no change to undo.")
        raise UserError(f"Nothing left to undo: your last change, {escape(previous.summary)}, was already undone.")
    summary = escape(change.summary)
    if change.kind in audit.IRREVERSIBLE:
        raise UserError(f"Your last change, {LABELS.get(change.kind, change.kind)} ({summary}, {ago(change.at, ctx.now)}), "
                        f"can't be undone; {irreversible_hint(change)}. Nothing was changed.")
    if change.at < ctx.now - audit.UNDO_WINDOW:
        raise UserError(f"Your last change, {summary}, was {ago(change.at, ctx.now)}: `undo` only reverses changes "
                        f"from the last {WINDOW_MINUTES} minutes, so nothing was changed.")
    if (other := audit.newer_by_others(session=session, change=change)) is not None:
        raise UserError(f"Your last change, {summary}, was followed by {user(other.user_id)}'s ({escape(other.summary)}, "
                        f"{ago(other.at, ctx.now)}); undoing yours would overwrite theirs, so nothing was changed.")
    try:
        audit.undo(session=session, change=change, now=ctx.now)
    except audit.CannotUndo as why:
        raise UserError(f"Your last change, {summary}, can't be undone now: {escape(str(why))}. Nothing was changed.") from None
    return Reply(text=f"Undone: {change.summary}.", blocks=confirmation(f"Undone: {escape(change.summary)}."))

"""`/partner` subcommands: text in, `Reply` out. No Slack SDK in here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from views.messages import error_blocks
from commands import add, ask, deal, help_, history, jobs_, link, list_, log, onboard, qbr, report, requests_, route, scorecard, stage, status, undo
from commands.kpi import Kpi, Target
from commands.manage import Archive, Channel, Owner, Reassign, Rename
from commands.context import Caller, Context, Reply
from commands.errors import UserError
from commands.parser import ParseError, choice, tokenize

SUBCOMMANDS: dict[str, Any] = {  # word → module (or class) with USAGE, DESCRIPTION, run(), and READ_ONLY if it writes nothing
    "help": help_,
    "status": status,
    "add": add,
    "list": list_,
    "log": log,
    "stage": stage,
    "onboard": onboard,
    "qbr": qbr,
    "scorecard": scorecard,
    "kpi": Kpi,
    "target": Target,
    "deal": deal,
    "ask": ask,
    "requests": requests_,
    "route": route,
    "owner": Owner,
    "rename": Rename,
    "archive": Archive,
    "channel": Channel,
    "reassign": Reassign,
    "link": link,
    "undo": undo,
    "history": history,
    "jobs": jobs_,
    "report": report,
}

__all__ = ["Caller", "Context", "Reply", "UserError", "SUBCOMMANDS", "handle", "error_reply", "is_read_only"]


def is_read_only(text: str) -> bool:
    """Whether the `/partner` line names a subcommand that only reads (its
    READ_ONLY attribute); nothing typed is `help`."""
    first = text.split(None, 1)[0].casefold() if text.strip() else "help"
    return getattr(SUBCOMMANDS.get(first), "READ_ONLY", False)


def handle(text: str, ctx: Context) -> Reply:
    """Run one `/partner` line. Raises UserError for mistakes the caller can fix."""
    first = text.split(None, 1)[0].casefold() if text.strip() else ""
    try:
        cmd = tokenize(text)
    except UserError as error:  # an unclosed quote: still this subcommand's mistake
        raise with_usage(error, SUBCOMMANDS.get(first)) from None
    if not cmd.tokens:
        return help_.run(cmd, 0, ctx)
    cmd = replace(cmd, channel_id=ctx.caller.channel_id)
    word = cmd.tokens[0]
    module = SUBCOMMANDS.get(word.word)
    if module is None:
        try:
            choice(word, list(SUBCOMMANDS), "command")
        except UserError as error:
            raise UserError(error.message + " Type `/partner help` for the list.") from None
    try:
        return module.run(cmd, 1, ctx)
    except UserError as error:
        raise with_usage(error, module) from None


def with_usage(error: UserError, module: Any) -> UserError:
    """A malformed line shows the usage of the subcommand that was typed, whichever
    helper found the mistake (`rename` reuses add's name check, yet shows rename's usage)."""
    if module is not None and (error.usage or isinstance(error, ParseError)):
        error.usage = module.USAGE
    return error


def error_reply(error: UserError) -> Reply:
    return Reply(
        error=True,
        field=error.field,
        text=error.message,
        blocks=error_blocks(error.message, usage=f"/partner {error.usage}" if error.usage else None, suggestions=error.suggestions),
    )

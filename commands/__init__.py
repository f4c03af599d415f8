"""`/partner` subcommands: text in, `Reply` out. No Slack SDK in here."""

from __future__ import annotations

from types import ModuleType

from bot.views.messages import error_blocks
from commands import add, help_, list_, log, stage, status
from commands.context import Caller, Context, Reply
from commands.errors import UserError
from commands.parser import choice, tokenize

SUBCOMMANDS: dict[str, ModuleType] = {
    "help": help_,
    "status": status,
    "add": add,
    "list": list_,
    "log": log,
    "stage": stage,
}

__all__ = ["Caller", "Context", "Reply", "UserError", "SUBCOMMANDS", "handle", "error_reply"]


def handle(text: str, ctx: Context) -> Reply:
    """Run one `/partner` line. Raises UserError for mistakes the caller can fix."""
    cmd = tokenize(text)
    if not cmd.tokens:
        return help_.run(cmd, 0, ctx)
    word = cmd.tokens[0]
    module = SUBCOMMANDS.get(word.word)
    if module is None:
        choice(word, list(SUBCOMMANDS), "command")  # raises with a suggestion
    return module.run(cmd, 1, ctx)


def error_reply(error: UserError) -> Reply:
    return Reply(
        text=error.message,
        blocks=error_blocks(error.message, usage=f"/partner {error.usage}" if error.usage else None, suggestions=error.suggestions),
    )

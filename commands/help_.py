"""`/partner help`"""

from __future__ import annotations

from views.messages import help_blocks
from commands.context import Context, Reply
from commands.parser import Command

USAGE = "help"
DESCRIPTION = "this list"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    from commands import SUBCOMMANDS

    usages = [(module.USAGE, module.DESCRIPTION) for module in dict.fromkeys(SUBCOMMANDS.values())]
    return Reply(text="partnerbot commands: " + ", ".join(SUBCOMMANDS), blocks=help_blocks(usages))

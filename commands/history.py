"""`/partner history <partner> [page:N]`: who changed what and when, newest first (read-only)."""

from __future__ import annotations

from views.text import page_of, plural
from views.history import PAGE_SIZE, history_list
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, page_number, split_options, without_page
from commands.refs import take_partner
from storage import audit

USAGE = "history <partner> [page:<n>]"
DESCRIPTION = "who changed what on a partner, and when, newest first"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    if index >= len(cmd.tokens):
        raise UserError("Whose history? Give a partner.", usage=USAGE)
    partner, index = take_partner(cmd, index, session=ctx.session, usage=USAGE)
    rest, options = split_options(cmd.tokens[index:], {"page"})
    if rest:
        raise UserError("`history` takes one partner name; put names with spaces in quotes.", usage=USAGE)
    page = page_number(options, USAGE)
    # Paged in SQL: a partner's trail grows without bound.
    total = audit.history_count(session=ctx.session, partner_id=partner.id)
    page, pages, offset = page_of(total, page, PAGE_SIZE)
    changes = audit.history(session=ctx.session, partner_id=partner.id, offset=offset, limit=PAGE_SIZE)
    blocks = history_list(changes, partner_name=partner.name, total=total, page=page, pages=pages, now=ctx.now,
                          zone=ctx.settings.zone, next_command=without_page(cmd))
    return Reply(text=f"History of {partner.name}: {plural(total, 'change')}", blocks=blocks)

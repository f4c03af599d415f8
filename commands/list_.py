"""`/partner list [type:…] [owner:@…] [stage:…] [page:N]`"""

from __future__ import annotations

from views.partners import PAGE_SIZE, partner_list
from views.text import page_of
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, choice, page_number, shown, split_options, user_ref, without_page
from storage import partners
from storage.models import PartnerType, Stage

USAGE = "list [type:<type>] [owner:@user] [stage:<stage>] [page:<n>]"
DESCRIPTION = "partners, filtered"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    positional, options = split_options(cmd.tokens[index:], {"type", "owner", "stage", "page"})
    if positional:
        raise UserError(f"{shown(positional[0].text)} is not a filter; use `type:`, `owner:` or `stage:`.", usage=USAGE)
    kind = choice(options["type"], [t.value for t in PartnerType], "partner type") if "type" in options else None
    stage = choice(options["stage"], [s.value for s in Stage], "stage") if "stage" in options else None
    owner = user_ref(options["owner"], "owner") if "owner" in options else None
    page = page_number(options, USAGE)
    # Paged in SQL: one page of rows and a count, whatever the number of partners.
    total = partners.count_rows(session=ctx.session, owner_id=owner, type=kind, stage=stage)
    page, _, offset = page_of(total, page, PAGE_SIZE)
    rows = partners.rows(session=ctx.session, owner_id=owner, type=kind, stage=stage, offset=offset, limit=PAGE_SIZE)
    filters = [f for f in (kind, stage) if f] + ([f"owner {owner}"] if owner else [])
    title = "Partners" + (f" ({', '.join(filters)})" if filters else "")
    blocks = partner_list([(r.partner, r.last_touch) for r in rows], title=title, now=ctx.now, page=page,
                          next_command=without_page(cmd), total=total)
    return Reply(text=f"{title}: {total}", blocks=blocks)

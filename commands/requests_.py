"""`/partner requests [mine|open|unclaimed|<team>]`"""

from __future__ import annotations

from views.requests import REQUESTS_PAGE, request_list
from views.text import page_of
from commands.context import Context, Reply
from commands.errors import UserError
from commands.parser import Command, ParseError, page_number, shown, split_options, without_page
from commands.teams import did_you_mean, known_teams
from storage import requests
from storage.models import RequestStatus

USAGE = "requests [mine|open|unclaimed|<team>] [page:<n>]"
DESCRIPTION = "open requests and their age, oldest first"
READ_ONLY = True  # runs in a read-only unit of work: never waits for a writer
ACTIVE = [RequestStatus.OPEN.value, RequestStatus.CLAIMED.value]


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    rest, options = split_options(cmd.tokens[index:], {"page"})
    page = page_number(options, USAGE)
    if len(rest) > 1:
        raise UserError("`requests` takes one filter.", usage=USAGE)
    title, filters = _filter(rest[0] if rest else None, ctx)
    # Paged in SQL: one page of requests and a count.
    total = requests.listing_count(session=ctx.session, **filters)
    page, _, offset = page_of(total, page, REQUESTS_PAGE)
    found = requests.listing(session=ctx.session, **filters, offset=offset, limit=REQUESTS_PAGE)
    blocks = request_list(found, title=title, now=ctx.now, page=page, next_command=without_page(cmd), total=total)
    return Reply(text=f"{title}: {total}", blocks=blocks)


def _filter(token, ctx: Context) -> tuple[str, dict]:
    """The list's title and the storage filters for `mine`, `open`, `unclaimed` or a team."""
    which = token.word if token else "open"
    if which == "mine":
        return "Your open requests (asked or claimed)", {"status": ACTIVE, "involving": ctx.caller.user_id}
    if which in ("open", "all"):
        return "Open requests", {"status": ACTIVE}
    if which == "unclaimed":
        return "Unclaimed requests", {"status": [RequestStatus.OPEN.value]}
    teams = known_teams(ctx)
    if which not in teams:
        filters = ["mine", "open", "unclaimed", *teams]
        listed = ", ".join(f"`{f}`" for f in filters)
        raise ParseError(f"{shown(token.text)} is not a filter or a team.{did_you_mean(which, filters)} Use one of {listed}.")
    return f"Open {which} requests", {"status": ACTIVE, "team": which}

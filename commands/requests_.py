"""`/partner requests [mine|open|unclaimed|<team>]`"""

from __future__ import annotations

from views.requests import request_list
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
    which = rest[0].word if rest else "open"
    if which == "mine":
        found = requests.listing(session=ctx.session, status=ACTIVE, involving=ctx.caller.user_id)
        title = "Your open requests (asked or claimed)"
    elif which in ("open", "all"):
        found = requests.listing(session=ctx.session, status=ACTIVE)
        title = "Open requests"
    elif which == "unclaimed":
        found = requests.listing(session=ctx.session, status=[RequestStatus.OPEN.value])
        title = "Unclaimed requests"
    else:
        teams = known_teams(ctx)
        team = rest[0].word
        if team not in teams:
            filters = ["mine", "open", "unclaimed", *teams]
            listed = ", ".join(f"`{f}`" for f in filters)
            raise ParseError(f"{shown(rest[0].text)} is not a filter or a team.{did_you_mean(team, filters)} Use one of {listed}.")
        found = requests.listing(session=ctx.session, status=ACTIVE, team=team)
        title = f"Open {team} requests"
    blocks = request_list(found, title=title, now=ctx.now, page=page, next_command=without_page(cmd))
    return Reply(text=f"{title}: {len(found)}", blocks=blocks)

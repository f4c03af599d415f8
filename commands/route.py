"""`/partner route [<team> <#channel>]` (admins): where a team's requests go."""

from __future__ import annotations

from views.messages import confirmation
from views.requests import route_table
from commands.context import Context, Reply
from core.messenger import SHARED
from commands.errors import UserError
from commands.parser import Command, channel_ref
from commands.permissions import require_admin
from commands.teams import routing, team_name
from storage import requests

USAGE = "route <team> <#channel> [@user-group]"
DESCRIPTION = "admins: where a team's requests go (`route` alone shows the table)"


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    rest = cmd.tokens[index:]
    if not rest:
        return Reply(text="Request routing", blocks=route_table(routing(ctx)))
    if len(rest) not in (2, 3):
        raise UserError("Give a team and a channel picked with #, and optionally a user group picked with @.", usage=USAGE)
    require_admin(ctx, "change where requests go")
    team = team_name(rest[0], usage=USAGE)
    channel = channel_ref(rest[1])
    group = None
    if len(rest) == 3:
        group = rest[2].usergroup_id
        if group is None:
            raise UserError("The third word should be a user group picked from the @ autocomplete (like @legal-team).", usage=USAGE)
    problem = ctx.slack.ensure_member(channel)
    if problem == SHARED:
        raise UserError(f"<#{channel}> is shared with another organisation; requests about partners stay in your own channels.")
    if problem in ("not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"):
        raise UserError(f"I can't post in <#{channel}>: it is private and I'm not in it. Invite me there with `/invite @partnerbot`, then try again.")
    if problem:
        raise UserError(f"Slack would not let me check <#{channel}> (`{problem}`); nothing was changed. Try again in a minute.")
    previous = requests.set_route(session=ctx.session, team=team, channel_id=channel, usergroup_id=group,
                                  user_id=ctx.caller.user_id, now=ctx.now)
    was = f" (was <#{previous}>)" if previous and previous != channel else ""
    mention = f"; escalations mention <!subteam^{group}>" if group else ""
    return Reply(text=f"{team} requests go to the channel now.", blocks=confirmation(f"*{team}* requests now go to <#{channel}>{was}{mention}."))

"""`/partner route [<team> <#channel> [@user-group] [sla:<hours>h]]` (admins): where a
team's requests go, and the team's own SLA."""

from __future__ import annotations

import re

from views.messages import confirmation
from views.requests import route_table
from views.text import escape
from commands.context import Context, Reply
from core.messenger import SHARED
from core.settings import parse_business_hours
from commands.errors import UserError
from commands.parser import Command, ParseError, Token, channel_ref, shown, split_options
from commands.permissions import require_admin
from commands.teams import routing, team_name
from storage import requests, sla

USAGE = "route <team> [<#channel> [@user-group]] [sla:<hours>h]"
DESCRIPTION = "admins: where a team's requests go and its SLA in business hours (`route` alone shows the table)"
SLA_RANGE = (1, 24 * 30)  # as PARTNERBOT_REQUEST_SLA_HOURS
DEFAULT = "default"


def run(cmd: Command, index: int, ctx: Context) -> Reply:
    rest = cmd.tokens[index:]
    if not rest:
        return Reply(text="Request routing", blocks=route_table(
            routing(ctx), slas=sla.team_slas(session=ctx.session), default_sla=ctx.settings.request_sla_hours,
            business_hours=ctx.settings.business_hours, holidays=ctx.settings.holidays))
    if any((kv := t.key_value()) and kv[0] == "sla" and not kv[1].raw for t in rest):
        raise ParseError(_sla_hint("`sla:` needs a number of business hours right after the colon", ctx), usage=USAGE)
    rest, options = split_options(rest, {"sla"})
    if len(rest) == 1 and "sla" in options:
        return _sla_only(rest[0], options["sla"], ctx)
    if len(rest) not in (2, 3):
        raise UserError("Give a team and a channel picked with #, and optionally a user group picked with @ "
                        "and the team's SLA like `sla:48h`.", usage=USAGE)
    require_admin(ctx, "change where requests go")
    team = team_name(rest[0], usage=USAGE)
    channel = channel_ref(rest[1])
    group = None
    if len(rest) == 3:
        group = rest[2].usergroup_id
        if group is None:
            raise UserError("The third word should be a user group picked from the @ autocomplete (like @legal-team).", usage=USAGE)
    hours = sla_hours(options["sla"], ctx) if "sla" in options else None
    problem = ctx.slack.ensure_member(channel)
    if problem == SHARED:
        raise UserError(f"<#{channel}> is shared with another organisation; requests about partners stay in your own channels.")
    if problem in ("not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"):
        raise UserError(f"I can't post in <#{channel}>: it is private and I'm not in it. Invite me there with `/invite @partnerbot`, then try again.")
    if problem:
        raise UserError(f"Slack would not let me check <#{channel}> (`{problem}`); nothing was changed. Try again in a minute.")
    previous = requests.set_route(session=ctx.session, team=team, channel_id=channel, usergroup_id=group,
                                  user_id=ctx.caller.user_id, now=ctx.now)
    if "sla" in options:
        requests.set_sla(session=ctx.session, team=team, sla_hours=hours, user_id=ctx.caller.user_id, now=ctx.now)
    was = f" (was <#{previous}>)" if previous and previous != channel else ""
    mention = f"; escalations mention <!subteam^{group}>" if group else ""
    return Reply(text=f"{team} requests go to the channel now.",
                 blocks=confirmation(f"*{team}* requests now go to <#{channel}>{was}{mention}; {_sla_now(team, ctx)}."))


def _sla_only(team_token: Token, option: Token, ctx: Context) -> Reply:
    """`route legal sla:48h`: a team routed in Slack keeps its channel and user group."""
    require_admin(ctx, "change where requests go")
    team = team_name(team_token, usage=USAGE)
    hours = sla_hours(option, ctx)
    if not requests.set_sla(session=ctx.session, team=team, sla_hours=hours, user_id=ctx.caller.user_id, now=ctx.now):
        raise UserError(f"*{team}* has no channel set with `/partner route` yet; give it one with its SLA: "
                        f"`/partner route {team} #channel sla:{escape(option.text)}`.", usage=USAGE)
    return Reply(text=f"{team} SLA changed.", blocks=confirmation(f"*{team}* requests: {_sla_now(team, ctx)}."))


def _sla_now(team: str, ctx: Context) -> str:
    own = sla.team_slas(session=ctx.session).get(team)
    return (f"SLA {own} business hours" if own else
            f"SLA {ctx.settings.request_sla_hours} business hours (the default, PARTNERBOT_REQUEST_SLA_HOURS)")


def sla_hours(token: Token, ctx: Context) -> int | None:
    """`sla:48h` or `sla:48` → 48; `sla:default` → None (PARTNERBOT_REQUEST_SLA_HOURS).
    Days are refused: a business day is as long as PARTNERBOT_BUSINESS_HOURS makes it,
    so the reply says how many hours that many working days are here."""
    word = token.word
    if word == DEFAULT:
        return None
    if match := re.fullmatch(r"(\d+)\s*(?:h|hr|hrs|hour|hours)?", word):
        hours = int(match[1])
        if not SLA_RANGE[0] <= hours <= SLA_RANGE[1]:
            raise ParseError(f"An SLA is {SLA_RANGE[0]} to {SLA_RANGE[1]} business hours; {shown(word)} is not. "
                             "Write it like `sla:48h`.", usage=USAGE)
        return hours
    if match := re.fullmatch(r"(\d+)\s*(?:d|day|days)", word):
        day = parse_business_hours(ctx.settings.business_hours).hours_a_day
        raise ParseError(f"SLAs count business hours, so write hours: {match[1]} working "
                         f"{'day is' if match[1] == '1' else 'days are'} `sla:{round(int(match[1]) * day)}h` "
                         f"with PARTNERBOT_BUSINESS_HOURS `{ctx.settings.business_hours}`.", usage=USAGE)
    raise ParseError(_sla_hint(f"{shown(token.text)} is not a number of hours", ctx), usage=USAGE)


def _sla_hint(problem: str, ctx: Context) -> str:
    return (f"{problem}: write the team's SLA in business hours, like `sla:48h` "
            f"(`sla:{DEFAULT}` goes back to the default, {ctx.settings.request_sla_hours} h).")


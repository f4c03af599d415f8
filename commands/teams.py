"""Team names and the routing table (shared by ask, requests and route)."""

from __future__ import annotations

from bot.settings import RESERVED_TEAM_NAMES, TEAM_NAME
from commands.context import Context
from commands.errors import UserError
from commands.parser import Token, shown
from storage import requests

DEFAULT_TEAMS = ("legal", "product", "finance")


def routing(ctx: Context) -> dict[str, str]:
    return requests.routes(session=ctx.session, defaults=ctx.settings.routes)


def team_name(token: Token, *, usage: str) -> str:
    name = token.word
    if name in RESERVED_TEAM_NAMES or not TEAM_NAME.match(name):
        raise UserError(
            f"{shown(token.text)} cannot be a team name: use 2–21 lowercase letters, digits or -, "
            "and not mine, open, unclaimed or all.",
            usage=usage,
        )
    return name


def routed_channel(ctx: Context, team: str, *, usage: str) -> str:
    table = routing(ctx)
    if team in table:
        return table[team]
    known = ", ".join(f"`{t}`" for t in table) or "none yet"
    raise UserError(
        f"No channel is set for {shown(team)} (routed teams: {known}). "
        f"An admin sets one with `/partner route {team} #channel`.",
        usage=usage,
    )

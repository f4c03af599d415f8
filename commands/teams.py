"""Team names and the routing table (shared by ask, requests and route)."""

from __future__ import annotations

import difflib

from core.settings import RESERVED_TEAM_NAMES, TEAM_NAME
from commands.context import Context
from commands.errors import UserError
from commands.parser import ParseError, Token, shown
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


def known_teams(ctx: Context) -> list[str]:
    """The teams a request can be about: the routed ones and the three defaults."""
    return sorted(set(routing(ctx)) | set(DEFAULT_TEAMS))


def did_you_mean(word: str, candidates: list[str]) -> str:
    """" Did you mean `finance`?" for a near miss among `candidates`, else ""."""
    close = difflib.get_close_matches(word, [c for c in candidates if c != word], n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def routed_channel(ctx: Context, team: str, *, usage: str) -> str:
    table = routing(ctx)
    if team in table:
        return table[team]
    known = ", ".join(f"`{t}`" for t in table) or "none yet"
    if hint := did_you_mean(team, known_teams(ctx)):
        # A typo of a known team, not a new team to route.
        raise ParseError(f"There is no {shown(team)} team.{hint} Routed teams: {known}.", usage=usage)
    raise UserError(
        f"No channel is set for {shown(team)} (routed teams: {known}). "
        f"An admin sets one with `/partner route {team} #channel`.",
        usage=usage,
    )

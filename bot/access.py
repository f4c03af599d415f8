"""The one access decision: who may do what in partnerbot (SPEC §9, "Who may do what"),
and the boundary of partner channels (Slack Connect).

Every listener goes through `Gate.decide` (via bot/listeners/actor.py) before it reads
anything. The answer comes from Slack's records of the person and the channel, never
from a button value or form field:
- a full member of this workspace (`users.info` team_id = `auth.test`'s, on
  `PARTNERBOT_USERS` when that list is set) is served everywhere;
- a person of another organisation (another `team_id`, or `is_stranger`) is served
  only at a partner-facing door (the partner desk's buttons and forms, `/partner help`
  and `/partner scorecard`), only in a channel linked to a live partner that Slack says
  is shared right now, and only for that partner (`Access.partner_id`, from the link);
- guests, deleted accounts and bots are refused everywhere;
- when Slack cannot answer (error, timeout, rate limit), the answer is no, for now:
  "try again in a minute". Nothing unknown is let in.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from core.settings import Settings
from bot.slack import ACCESS_TTL, JobSlack, is_external, other_orgs, outsider_reason, shared_flags
from storage import partners
from storage.db import unit_of_work

log = logging.getLogger(__name__)

NOT_LISTED = "partnerbot is limited to a list of people, and you are not on it. Ask an admin to add you."
GUEST = "Guest accounts can't use partnerbot. Ask a full member of your workspace."
# The same line whatever was asked: it says nothing about partners or whether one exists.
OUTSIDER = "partnerbot is only available to members of this workspace."
UNKNOWN = "Slack couldn't confirm who you are just now, so nothing was shown. Please try again in a minute."
# A member at a partner desk whose channel is no longer linked (or no longer a live partner's).
UNLINKED = "This channel isn't linked to a partner any more, so its partner desk is closed. Link it with `/partner channel <partner> #channel`."


@dataclass(frozen=True)
class Access:
    """What one person may do here: everything (`member`), a partner's own actions
    (`partner_id` set, `member` False: a person of another organisation in that partner's
    channel), or nothing (`refusal` says why, in one line that reveals nothing)."""

    refusal: str | None = None
    member: bool = False
    external: bool = False  # Slack says this person belongs to another organisation
    partner_id: int | None = None  # at a partner door: the partner linked to the channel
    channel_id: str | None = None
    team_id: str | None = None  # the person's organisation (for the audit trail)


def one_partner_org(channel: dict, team: dict, person: dict) -> bool:
    """When Slack names the organisations a channel reaches (bot/slack.py other_orgs), a
    partner channel reaches exactly one other, and the person belongs to it: a channel
    several partners share is nobody's desk. Without that list, the link and the sharing decide."""
    others = other_orgs(channel, team)
    return others is None or (len(others) == 1 and person.get("team_id") in others)


def refused(why: str, *, external: bool = False) -> Access:
    return Access(refusal=why, external=external)

# Listeners that must answer Slack within 3 seconds (form submissions, suggestions)
# wait this long for Slack to say who someone is; the lookup goes on in the
# background and fills the cache for the next try.
ACK_BUDGET = 2.0
# Everything else (after the ack) waits at most this long; a rate limit is not waited out.
LOOKUP_BUDGET = 6.0


class Gate:
    def __init__(self, settings: Settings, slack: JobSlack):
        self.settings = settings
        self.slack = slack
        self._lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="access")

    def refusal(self, user_id: str | None, *, budget: float | None = None) -> str | None:
        """Why this person may not use the bot's internal surfaces, or None when they may."""
        return self.decide(user_id, budget=budget).refusal

    def decide(self, user_id: str | None, *, channel_id: str | None = None, partner_door: bool = False,
               budget: float | None = None) -> Access:
        """The one decision. `partner_door`: the person acts at a partner-facing door in
        `channel_id` (a desk button or form, `/partner help|scorecard`), where a person of
        another organisation may be let in for the partner linked to that channel."""
        if not user_id or not isinstance(user_id, str):
            return refused(OUTSIDER)
        if not partner_door and self.settings.users and user_id not in self.settings.users:
            return refused(NOT_LISTED)  # no Slack call: the list alone says no
        if not partner_door and self.slack.knows(user_id, max_age=ACCESS_TTL):  # from memory, no thread hop
            return self._decide(user_id, None, False)
        wait = budget or LOOKUP_BUDGET
        future = self._lookups.submit(self._decide, user_id, channel_id, partner_door)
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            log.warning("access check: Slack did not answer in %.1f s; refused for now", wait)
            return refused(UNKNOWN)

    def known(self, user_id: str | None) -> bool:
        """The decision can be made now, from the settings and what Slack said recently
        (no Slack call): the condition for answering in the ack itself."""
        if not user_id or not isinstance(user_id, str) or (self.settings.users and user_id not in self.settings.users):
            return True
        return self.slack.knows(user_id, max_age=ACCESS_TTL)

    def _decide(self, user_id: str, channel_id: str | None, partner_door: bool) -> Access:
        info = self.slack.user_info(user_id, max_age=ACCESS_TTL, quick=True)
        team = self.slack.own_team(quick=True)
        if info is None or team is None:
            return refused(UNKNOWN)
        reason = outsider_reason(info, team)
        if reason is None:
            if self.settings.users and user_id not in self.settings.users:
                return refused(NOT_LISTED)
            access = Access(member=True, team_id=team["team_id"])
            return self._at_desk(access, channel_id) if partner_door else access
        if reason == "guest":
            return refused(GUEST)
        if not is_external(info, team):
            return refused(OUTSIDER)
        if not partner_door or not channel_id:
            return refused(OUTSIDER, external=True)
        # Another organisation's person: only in a channel Slack says is shared now and that is
        # linked to a live partner, and only for that partner.
        channel = self.slack.channel_info(channel_id, quick=True)
        if channel is None:
            return refused(UNKNOWN, external=True)
        if not shared_flags(channel) or not one_partner_org(channel, team, info):
            return refused(OUTSIDER, external=True)
        access = self._at_desk(Access(external=True, team_id=info.get("team_id") or "stranger"), channel_id)
        return access if access.partner_id is not None else refused(OUTSIDER, external=True)

    @staticmethod
    def _at_desk(access: Access, channel_id: str | None) -> Access:
        """The partner linked to the channel, from the link alone."""
        partner_id = None
        if channel_id:
            with unit_of_work(read_only=True) as session:
                partner = partners.linked_to(session=session, channel_id=channel_id)
                partner_id = partner.id if partner is not None else None
        if partner_id is None:
            return refused(UNLINKED if access.member else OUTSIDER, external=access.external)
        return Access(member=access.member, external=access.external, partner_id=partner_id, channel_id=channel_id,
                      team_id=access.team_id)

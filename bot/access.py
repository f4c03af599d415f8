"""The one access decision: who may use partnerbot at all (SPEC §9, "Who may do what").

Every listener asks `Gate.refusal(user_id)` before it reads anything. The answer
comes from the user ID alone, never from a button value or form field:
- a missing user, or one outside `PARTNERBOT_USERS` when that list is set;
- a guest (`is_restricted` / `is_ultra_restricted`);
- a person of another organisation: `users.info` names another `team_id` than
  this workspace's (`auth.test`), or says `is_stranger`;
- and when Slack cannot answer (error, timeout, rate limit), the answer is no,
  for now: "try again in a minute". Nothing unknown is let in.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from core.settings import Settings
from bot.slack import ACCESS_TTL, JobSlack, outsider_reason

log = logging.getLogger(__name__)

NOT_LISTED = "partnerbot is limited to a list of people, and you are not on it. Ask an admin to add you."
GUEST = "Guest accounts can't use partnerbot. Ask a full member of your workspace."
# The same line whatever was asked: it says nothing about partners or whether one exists.
OUTSIDER = "partnerbot is only available to members of this workspace."
UNKNOWN = "Slack couldn't confirm who you are just now, so nothing was shown. Please try again in a minute."

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
        """Why this person may not use the bot, or None when they may."""
        if not user_id or not isinstance(user_id, str):
            return OUTSIDER
        if self.settings.users and user_id not in self.settings.users:
            return NOT_LISTED
        if self.slack.knows(user_id, max_age=ACCESS_TTL):  # answered from memory, no thread hop
            return self._decide(user_id)
        wait = budget or LOOKUP_BUDGET
        future = self._lookups.submit(self._decide, user_id)
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            log.warning("access check: Slack did not answer in %.1f s; refused for now", wait)
            return UNKNOWN

    def known(self, user_id: str | None) -> bool:
        """The decision can be made now, from the settings and what Slack said recently
        (no Slack call): the condition for answering in the ack itself."""
        if not user_id or not isinstance(user_id, str) or (self.settings.users and user_id not in self.settings.users):
            return True
        return self.slack.knows(user_id, max_age=ACCESS_TTL)

    def _decide(self, user_id: str) -> str | None:
        info = self.slack.user_info(user_id, max_age=ACCESS_TTL, quick=True)
        team = self.slack.own_team(quick=True)
        if info is None or team is None:
            return UNKNOWN
        reason = outsider_reason(info, team)
        return GUEST if reason == "guest" else OUTSIDER if reason else None
